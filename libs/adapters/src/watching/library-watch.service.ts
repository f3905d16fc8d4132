import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, ProcessLeaseName, ProcessLeaseService } from '@app/core';
import { type ImportRunEntity, ImportRunStatus } from '../import-runs/import-run.entity.js';
import { ImportRunService } from '../import-runs/import-run.service.js';
import { AdapterRepository } from '../library/adapter.repository.js';
import { LibraryRoots } from '../library/library-roots.js';
import { LibraryWatcher } from './library-watcher.js';

/** A watcher that dies is replaced this long after its last lease renewal. */
export const WATCH_LEASE_TTL_MS = 10_000;
/** Scale-out: processes starting within this window of the start-up import that one of them queued skip theirs. */
const START_IMPORT_WINDOW_MS = 120_000;
const RUN_POLL_MS = 200;

/** What a watching process is told, to report it in its own way (the CLI prints, servers log). */
export interface WatchEvents {
  /** This process won the lease and watches now. */
  watching?: () => void;
  /** Another process watches; this one takes over if it stops. */
  standingBy?: (holder: string) => void;
}

/**
 * Imports the given folders and resolves once the import is over, or once `stopping` fires (the watcher stops: a
 * queued import then goes on without it).
 */
export type FolderImporter = (folders: string[], stopping: AbortSignal) => Promise<void>;

export interface WatchHandle {
  stop(): Promise<void>;
}

/**
 * The folder watcher and the start-up import. One process watches at a time, whatever the mode: the holder of the
 * `library-watch` lease (a worker of a scale-out deployment, the embedded API, or a CLI `import --watch`); the others
 * stand by and take over within `WATCH_LEASE_TTL_MS` of its death.
 */
@Injectable()
export class LibraryWatchService {
  private readonly logger = new Logger(LibraryWatchService.name);

  constructor(
    private readonly roots: LibraryRoots,
    private readonly adapters: AdapterRepository,
    private readonly runs: ImportRunService,
    private readonly leases: ProcessLeaseService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Watches the roots while this process holds the lease, importing touched folders with `importFolders`. */
  watchWhileElected(importFolders: FolderImporter = this.importAsJob, events: WatchEvents = {}): WatchHandle {
    let watcher: LibraryWatcher | null = null;
    let term = new AbortController();
    let announced = false;
    const stopWatching = async () => {
      term.abort();
      await watcher?.stop();
      watcher = null;
    };
    const campaign = this.leases.campaign(ProcessLeaseName.LibraryWatch, {
      ttlMs: WATCH_LEASE_TTL_MS,
      onElected: async () => {
        term = new AbortController();
        const { signal } = term;
        watcher = this.watcher((folders) => importFolders(folders, signal));
        await watcher.start();
        const { pollMs } = this.config.watch;
        this.logger.log(
          `Watching ${this.roots.list().length} library root(s) ${pollMs ? `by polling every ${pollMs / 1000} s` : 'for file-system events'}`,
        );
        events.watching?.();
      },
      onDeposed: stopWatching,
    });
    // Say once who watches when it is not this process.
    const standby = setTimeout(() => {
      if (campaign.holding || announced) return;
      announced = true;
      void this.leases.holderOf(ProcessLeaseName.LibraryWatch).then((holder) => {
        if (holder && !campaign.holding) {
          this.logger.log(`Another process watches the library (${holder}); this one takes over if it stops`);
          events.standingBy?.(holder);
        }
      });
    }, 500);
    standby.unref();
    return {
      stop: async () => {
        clearTimeout(standby);
        await stopWatching();
        await campaign.stop();
      },
    };
  }

  /** Imports the folders as an import job (run by this process when embedded, by a worker when scaled out). */
  readonly importAsJob: FolderImporter = async (folders, stopping) => {
    const run = await this.runs.start({ paths: folders });
    await this.settled(run.id, stopping);
  };

  /**
   * IMPORT_ON_START: queues an incremental import of every root. Scaled out, only the first process to start within
   * a couple of minutes queues one (the others of the same deployment skip theirs); null when skipped.
   */
  async importOnStart(): Promise<ImportRunEntity | null> {
    if (this.config.redis && !(await this.leases.claimOnce(ProcessLeaseName.ImportOnStart, START_IMPORT_WINDOW_MS))) {
      this.logger.log('Start-up import: another process of this deployment queued one already');
      return null;
    }
    const run = await this.runs.start({});
    this.logger.log(`Start-up import queued (run ${run.id})`);
    return run;
  }

  private watcher(importFolders: (folders: string[]) => Promise<void>): LibraryWatcher {
    const { pollMs, debounceMs, settleMs } = this.config.watch;
    return new LibraryWatcher({
      roots: this.roots.list(),
      pollMs,
      debounceMs,
      settleMs,
      ignore: this.config.loraIgnore,
      importFolders,
      hasLiveFiles: (rootId) => this.adapters.hasLiveFiles(rootId),
      logger: this.logger,
    });
  }

  private async settled(runId: string, stopping: AbortSignal): Promise<void> {
    while (!stopping.aborted) {
      const run = await this.runs.get(runId);
      if (run.status === ImportRunStatus.Completed || run.status === ImportRunStatus.Failed) return;
      await new Promise((resolve) => setTimeout(resolve, RUN_POLL_MS));
    }
  }
}
