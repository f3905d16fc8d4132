import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { Injectable, Logger } from '@nestjs/common';
import { BackendLeaseRepository } from './backend-lease.repository.js';
import { SdNextBackends } from './sdnext-backends.js';

const TTL_MS = 20_000;
const RENEW_MS = 5_000;
const FIRST_WAIT_MS = 10;
const MAX_WAIT_MS = 250;

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
 * crashed holder). A job that finds no free backend waits: woken at once by a release in this process, polling
 * with backoff for releases elsewhere.
 */
@Injectable()
export class BackendLeaseService {
  private readonly logger = new Logger(BackendLeaseService.name);
  private readonly holder = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  private readonly released = new EventEmitter();
  private ready?: Promise<void>;

  constructor(
    private readonly repository: BackendLeaseRepository,
    private readonly backends: SdNextBackends,
  ) {
    this.released.setMaxListeners(0);
  }

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
    for (;;) {
      if (options.signal?.aborted) throw new LeaseWaitAbortedError();
      const up = candidates.filter((id) => !this.backends.isDown(id));
      // A backend seen down is used only when every candidate is: then the job fails with the real reason.
      for (const backendId of up.length > 0 ? up : candidates) {
        if (await this.repository.tryAcquire(backendId, jobId, this.holder, TTL_MS)) return this.hold(backendId, jobId);
      }
      if (options.isCancelled && Date.now() - lastCancelCheck >= 500) {
        lastCancelCheck = Date.now();
        if (await options.isCancelled()) throw new LeaseWaitAbortedError();
      }
      await this.sleepUntilRelease(wait, options.signal);
      wait = Math.min(wait * 2, MAX_WAIT_MS);
    }
  }

  private sleepUntilRelease(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.released.off('release', done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.released.once('release', done);
      signal?.addEventListener('abort', done, { once: true });
    });
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
          this.released.emit('release', backendId);
        }
      },
    };
  }

  /** Backend id → job id for the leases held right now. */
  held(): Promise<Map<string, string | null>> {
    return this.ensureRows().then(() => this.repository.held());
  }
}
