import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Injectable, Logger } from '@nestjs/common';
import { BackendLeaseRepository } from './backend-lease.repository.js';
import { SdNextBackends } from './sdnext-backends.js';

const TTL_MS = 20_000;
const RENEW_MS = 5_000;
const FIRST_WAIT_MS = 10;
const MAX_WAIT_MS = 250;

interface Waiter {
  readonly candidates: readonly string[];
  /** The backend a release in this process handed to this waiter since its last try, if any. */
  handedTo: string | null;
  /** Ends the waiter's current sleep. */
  wake?: () => void;
}

/** A held backend lease; renewed in the background until released. */
export interface BackendLease {
  readonly backendId: string;
  /** True once a renewal found the lease gone (this holder stalled past the TTL and another took over). */
  readonly lost: boolean;
  release(): Promise<void>;
}

export class LeaseWaitAbortedError extends Error {
  constructor() {
    super('cancelled while waiting for a free SD.Next backend');
    this.name = 'LeaseWaitAbortedError';
  }
}

/**
 * One generation at a time per SD.Next backend, across every process: a lease row per backend in the database,
 * taken with one conditional UPDATE, renewed while the generation runs, and taken over once it expires (a
 * crashed holder). A job that finds no free backend waits: a release in this process wakes the longest waiter
 * for that backend, and only it (first come, first served, and no stampede of UPDATEs that all but one lose);
 * every waiter also polls with backoff for releases in other processes.
 */
@Injectable()
export class BackendLeaseService {
  private readonly logger = new Logger(BackendLeaseService.name);
  private readonly holder = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  /** Jobs of this process waiting for a backend, longest waiting first. */
  private readonly waiters: Waiter[] = [];
  private ready?: Promise<void>;

  constructor(
    private readonly repository: BackendLeaseRepository,
    private readonly backends: SdNextBackends,
  ) {}

  /** The table may not exist before `migrate` runs in scale-out, so the rows are created on first use. */
  private ensureRows(): Promise<void> {
    this.ready ??= this.repository.ensure(this.backends.ids()).catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  /**
   * Waits for a free backend among `candidates` (all when omitted), preferring ones not recently seen down,
   * and takes its lease for `jobId`. Rejects with {@link LeaseWaitAbortedError} when `signal` fires or
   * `isCancelled` says so.
   */
  async acquire(
    jobId: string,
    options: { candidates?: readonly string[]; signal?: AbortSignal; isCancelled?: () => Promise<boolean> } = {},
  ): Promise<BackendLease> {
    await this.ensureRows();
    const candidates = options.candidates ?? this.backends.ids();
    if (candidates.length === 0) throw new Error('no SD.Next backend is configured (SDNEXT_URL)');
    let wait = FIRST_WAIT_MS;
    let lastCancelCheck = 0;
    const waiter: Waiter = { candidates, handedTo: null };
    let taken: string | null = null;
    let handed: string | null = null;
    try {
      for (;;) {
        if (options.signal?.aborted) throw new LeaseWaitAbortedError();
        // A backend handed over by a release is tried now, as every other candidate is.
        handed = waiter.handedTo;
        waiter.handedTo = null;
        const up = candidates.filter((id) => !this.backends.isDown(id));
        // A backend seen down is used only when every candidate is: then the job fails with the real reason.
        for (const backendId of up.length > 0 ? up : candidates) {
          if (await this.repository.tryAcquire(backendId, jobId, this.holder, TTL_MS)) {
            taken = backendId;
            return this.hold(backendId, jobId);
          }
        }
        handed = null; // tried, and another process had taken it
        if (options.isCancelled && Date.now() - lastCancelCheck >= 500) {
          lastCancelCheck = Date.now();
          if (await options.isCancelled()) throw new LeaseWaitAbortedError();
        }
        await this.sleepUntilRelease(waiter, wait, options.signal);
        wait = Math.min(wait * 2, MAX_WAIT_MS);
      }
    } finally {
      const at = this.waiters.indexOf(waiter);
      if (at >= 0) this.waiters.splice(at, 1);
      // Handed a released backend it did not take (it left, or took another one): the next waiter gets it.
      for (const backendId of new Set([handed, waiter.handedTo])) {
        if (backendId !== null && backendId !== taken) this.wakeNext(backendId);
      }
    }
  }

  /** Waits `ms`, or less when a release in this process hands the waiter a backend, or the signal fires. */
  private sleepUntilRelease(waiter: Waiter, ms: number, signal?: AbortSignal): Promise<void> {
    // The waiter keeps its place in the line across its sleeps.
    if (!this.waiters.includes(waiter)) this.waiters.push(waiter);
    if (waiter.handedTo !== null) return Promise.resolve(); // handed one while it was trying the others
    // Behind another waiter for the same backend, a release here would go to that one first, and a release in
    // another process is for the front of the line to find: polling slowly saves UPDATEs that would lose.
    const place = this.waiters.indexOf(waiter);
    const behind = this.waiters.slice(0, place).some((w) => w.candidates.some((c) => waiter.candidates.includes(c)));
    if (behind) ms = MAX_WAIT_MS;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waiter.wake = undefined;
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiter.wake = done;
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Hands a released backend to the longest waiter that can use it and is not already handed one. */
  private wakeNext(backendId: string): void {
    const waiter = this.waiters.find((w) => w.handedTo === null && w.candidates.includes(backendId));
    if (!waiter) return;
    waiter.handedTo = backendId;
    waiter.wake?.();
  }

  private hold(backendId: string, jobId: string): BackendLease {
    let lost = false;
    let released = false;
    const timer = setInterval(() => {
      void this.repository.renew(backendId, jobId, TTL_MS).then(
        (held) => {
          if (!held && !released) {
            lost = true;
            this.logger.warn(`Lease on ${backendId} for job ${jobId} was lost (renewal came too late)`);
          }
        },
        (error: unknown) => this.logger.warn(`Lease renewal on ${backendId} failed: ${String(error)}`),
      );
    }, RENEW_MS);
    timer.unref();
    return {
      backendId,
      get lost() {
        return lost;
      },
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(timer);
        try {
          await this.repository.release(backendId, jobId);
        } finally {
          this.wakeNext(backendId);
        }
      },
    };
  }

  /** Backend id → job id for the leases held right now. */
  held(): Promise<Map<string, string | null>> {
    return this.ensureRows().then(() => this.repository.held());
  }
}
