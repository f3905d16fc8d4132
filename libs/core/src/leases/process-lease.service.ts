import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Injectable, Logger } from '@nestjs/common';
import { errorMessage } from '../errors/domain-error.js';
import { ProcessLeaseRepository } from './process-lease.repository.js';

/** Names of the duties leased across processes. */
export enum ProcessLeaseName {
  LibraryWatch = 'library-watch',
  ImportOnStart = 'import-on-start',
  /** The scheduled Civitai update check (CIVITAI_UPDATE_CHECK_HOURS): one process starts it per period. */
  CivitaiUpdateCheck = 'civitai-update-check',
  /** Scheduled backups (BACKUP_EVERY_HOURS): one process makes each period's. */
  BackupSchedule = 'backup-schedule',
  ResultsRetention = 'results-retention',
}

export interface LeaseCampaignOptions {
  /** How long a taken or renewed lease lasts: a holder that dies is replaced this long after its last renewal. */
  ttlMs: number;
  /** Called once each time this process wins the lease. */
  onElected: () => Promise<void> | void;
  /** Called once each time this process loses it (renewal found it taken, or could not reach the database in time). */
  onDeposed: () => Promise<void> | void;
}

/** A process's bid for a lease: it holds it, or tries again every few seconds, until stopped. */
export interface LeaseCampaign {
  readonly holding: boolean;
  /** Stops bidding; a held lease is handed back at once, so another process takes over without waiting for it to expire. */
  stop(): Promise<void>;
}

/**
 * Leader election through a lease row per duty: one conditional UPDATE takes an expired lease, the holder renews it
 * at a fifth of its lifetime, and anyone takes it once a crashed holder stops renewing. Works the same on SQLite
 * (embedded API beside a CLI) and PostgreSQL (workers of a scale-out deployment).
 */
@Injectable()
export class ProcessLeaseService {
  private readonly logger = new Logger(ProcessLeaseService.name);
  readonly holder = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;

  constructor(private readonly repository: ProcessLeaseRepository) {}

  /** Who holds `name` now (another process, or this one), or null when nobody does. */
  async holderOf(name: ProcessLeaseName): Promise<string | null> {
    await this.repository.ensure(name);
    return this.repository.holderOf(name);
  }

  /** Takes `name` for `ttlMs` if it is free, without renewing it: a duty done once per period by one process. */
  async claimOnce(name: ProcessLeaseName, ttlMs: number): Promise<boolean> {
    await this.repository.ensure(name);
    return this.repository.tryAcquire(name, this.holder, ttlMs);
  }

  campaign(name: ProcessLeaseName, options: LeaseCampaignOptions): LeaseCampaign {
    const everyMs = Math.max(50, Math.floor(options.ttlMs / 5));
    let holding = false;
    let heldUntil = 0;
    let stopped = false;
    let turn: Promise<void> = Promise.resolve();

    const depose = async (reason: string) => {
      holding = false;
      this.logger.warn(`Lost the ${name} lease: ${reason}`);
      await options.onDeposed();
    };
    const step = async () => {
      if (stopped) return;
      try {
        if (holding) {
          if (await this.repository.renew(name, this.holder, options.ttlMs)) heldUntil = Date.now() + options.ttlMs;
          else await depose('another process took it over');
          return;
        }
        await this.repository.ensure(name);
        if (stopped || !(await this.repository.tryAcquire(name, this.holder, options.ttlMs))) return;
        holding = true;
        heldUntil = Date.now() + options.ttlMs;
        try {
          await options.onElected();
        } catch (error) {
          // The duty did not start: let another process have it.
          holding = false;
          await this.repository.release(name, this.holder);
          throw error;
        }
      } catch (error) {
        // Unable to renew: the lease may expire and go to another process, so stop acting on it before then.
        if (holding && Date.now() >= heldUntil) await depose(`database unreachable (${errorMessage(error)})`);
        else this.logger.warn(`${name} lease: ${errorMessage(error)}`);
      }
    };
    const tick = () => {
      turn = turn.then(step);
    };
    tick();
    const timer = setInterval(tick, everyMs);
    timer.unref();
    return {
      get holding() {
        return holding;
      },
      stop: async () => {
        stopped = true;
        clearInterval(timer);
        await turn;
        if (!holding) return;
        holding = false;
        await this.repository.release(name, this.holder).catch((error: unknown) => {
          this.logger.warn(`Could not release the ${name} lease: ${errorMessage(error)}`);
        });
      },
    };
  }
}
