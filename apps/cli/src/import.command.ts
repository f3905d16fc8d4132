import {
  HashPolicy,
  HashRunService,
  type ImportProgress,
  type ImportReport,
  ImportRunService,
  LibraryWatchService,
} from '@app/adapters';
import { Inject } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, databaseLocation, DomainError, errorMessage } from '@app/core';
import { SingleBar } from 'cli-progress';
import { Command, CommandRunner, Option } from 'nest-commander';

interface ImportCommandOptions {
  dryRun?: boolean;
  forceResync?: boolean;
  hash?: HashPolicy;
  ignore?: string[];
  json?: boolean;
  verbose?: boolean;
  watch?: boolean;
}

const COUNT_ORDER = [
  'seen',
  'added',
  'updated',
  'unchanged',
  'moved',
  'restored',
  'failed',
  'missing',
  'hashed',
] as const;
/** Without a terminal, a progress line at least this often (a pipe or a log file shows the import is alive). */
const PLAIN_PROGRESS_EVERY_MS = 1000;

@Command({
  name: 'import',
  arguments: '[paths...]',
  description: 'Import LoRA files and their sidecars from the library roots (or the given folders inside them)',
})
export class ImportCommand extends CommandRunner {
  constructor(
    private readonly runs: ImportRunService,
    private readonly hashRuns: HashRunService,
    private readonly watcher: LibraryWatchService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  @Option({ flags: '--dry-run', description: 'Report what would change; write nothing' })
  parseDryRun(): boolean {
    return true;
  }

  @Option({ flags: '--force-resync', description: 'Re-read every file and sidecar, even unchanged ones' })
  parseForce(): boolean {
    return true;
  }

  @Option({
    flags: '--hash <policy>',
    description: 'lazy (hash only to detect moves; default) or full (hash every new or changed file)',
  })
  parseHash(value: string): HashPolicy {
    const policy = Object.values(HashPolicy).find((p) => p === (value as HashPolicy));
    if (!policy) throw new Error(`--hash must be lazy or full, not "${value}"`);
    return policy;
  }

  @Option({
    flags: '--ignore <glob>',
    description:
      'Skip files and folders matching this glob, relative to each library root (repeatable; adds to LORA_IGNORE)',
  })
  parseIgnore(value: string, previous: string[] = []): string[] {
    return [...previous, value];
  }

  @Option({ flags: '--json', description: 'Print one machine-readable JSON summary instead of the table' })
  parseJson(): boolean {
    return true;
  }

  @Option({ flags: '--verbose', description: 'List every file added, updated, moved, restored or gone missing' })
  parseVerbose(): boolean {
    return true;
  }

  @Option({
    flags: '--watch',
    description: 'After the import, keep watching the library roots and import the folders that change (Ctrl-C stops)',
  })
  parseWatch(): boolean {
    return true;
  }

  async run(paths: string[], options: ImportCommandOptions): Promise<void> {
    if (options.watch && options.dryRun) {
      process.stderr.write('--watch cannot be combined with --dry-run\n');
      process.exitCode = 2;
      return;
    }
    await this.importOnce(paths, options);
    if (options.watch && !process.exitCode) await this.watchUntilStopped(options);
  }

  /**
   * Watches until SIGINT or SIGTERM, importing touched folders in this process and printing one line per import.
   * Another process may hold the watch already (an API with LORA_WATCH=true): this one then takes over when it stops.
   */
  private async watchUntilStopped(options: ImportCommandOptions): Promise<void> {
    const say = (line: string) =>
      process.stdout.write(options.json ? `${JSON.stringify({ watch: line })}\n` : `${line}\n`);
    const handle = this.watcher.watchWhileElected(
      async (folders) => {
        const { report } = await this.runs.runNow({ paths: folders, hash: options.hash, ignore: options.ignore });
        await this.hashRuns.startAfterImport();
        if (options.json) process.stdout.write(`${JSON.stringify({ folders, counts: report.counts })}\n`);
        else say(`${new Date().toISOString()} ${watchLine(folders, report)}`);
      },
      {
        watching: () => say('Watching the library roots for changes (Ctrl-C to stop)'),
        standingBy: (holder) => say(`Another process watches the library (${holder}); this one takes over if it stops`),
      },
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await handle.stop();
  }

  private async importOnce(paths: string[], options: ImportCommandOptions): Promise<void> {
    const interactive = process.stdout.isTTY && !options.json;
    const bar = interactive
      ? new SingleBar({ format: '{phase} [{bar}] {value}/{total} files | {eta_formatted} left', hideCursor: true })
      : null;
    let barStarted = false;
    let lastLine = 0;
    let latest: ImportProgress | null = null;
    const printLine = (p: ImportProgress) => {
      lastLine = Date.now();
      process.stdout.write(`${progressLine(p)}\n`);
    };
    const onProgress = (p: ImportProgress) => {
      latest = p;
      if (bar) {
        if (p.total === null) return;
        if (!barStarted) {
          bar.start(p.total, p.processed, { phase: p.phase });
          barStarted = true;
        }
        bar.setTotal(p.total);
        bar.update(p.processed, { phase: p.phase });
      } else if (!options.json && Date.now() - lastLine >= PLAIN_PROGRESS_EVERY_MS) printLine(p);
    };
    // While the import waits (worker threads, a large file being hashed), no progress arrives: repeat the last one.
    const ticker =
      bar || options.json
        ? null
        : setInterval(() => {
            if (latest && Date.now() - lastLine >= PLAIN_PROGRESS_EVERY_MS) printLine(latest);
          }, PLAIN_PROGRESS_EVERY_MS);
    // Process start → the import begins reading the library: what the CLI's own start-up costs.
    const startupMs = Math.round(performance.now());
    try {
      const { run, report } = await this.runs.runNow(
        // A one-shot process: synchronous small reads are several times faster and block nobody.
        {
          paths,
          dryRun: options.dryRun,
          forceResync: options.forceResync,
          hash: options.hash,
          ignore: options.ignore,
          syncIo: true,
        },
        { onProgress },
      );
      bar?.stop();
      // Files left unhashed (lazy hashing) are hashed in the background by the API or the workers.
      const hashRun = report.dryRun ? null : await this.hashRuns.startAfterImport();
      if (options.json) {
        process.stdout.write(
          `${JSON.stringify({ runId: run?.id ?? null, hashRunId: hashRun?.id ?? null, database: databaseLocation(this.config), dryRun: report.dryRun, startupMs, durationMs: report.durationMs, workerThreads: report.workerThreads, counts: report.counts, failureCount: report.failureCount, failures: report.failures, changes: report.changes })}\n`,
        );
        return;
      }
      const width = Math.max(...COUNT_ORDER.map((k) => k.length));
      process.stdout.write(
        `\n${report.dryRun ? 'Dry run (nothing written)' : 'Import finished'} in ${(report.durationMs / 1000).toFixed(1)} s` +
          `${report.workerThreads > 0 ? ` (files read in ${report.workerThreads} worker threads)` : ''}\n` +
          `  ${'database'.padEnd(width)}  ${databaseLocation(this.config)}\n`,
      );
      for (const key of COUNT_ORDER) process.stdout.write(`  ${key.padEnd(width)}  ${report.counts[key]}\n`);
      if (hashRun)
        process.stdout.write(
          `\nHash run ${hashRun.id} ${hashRun.status}: files left unhashed are hashed in the background (\`hash --wait\` does it here)\n`,
        );
      if ((report.dryRun || options.verbose) && report.changes.length > 0) {
        process.stdout.write(report.dryRun ? '\nWould change:\n' : '\nChanged:\n');
        for (const c of report.changes)
          process.stdout.write(`  ${c.change.padEnd(9)} ${c.path}${c.from ? ` (from ${c.from})` : ''}\n`);
      }
      if (report.failureCount > 0) {
        process.stdout.write(`\nFailures (${report.failureCount}):\n`);
        for (const f of report.failures) process.stdout.write(`  ${f.path}: ${f.reason}\n`);
      }
    } catch (error) {
      bar?.stop();
      const message = errorMessage(error);
      process.stderr.write(`Import failed: ${message}\n`);
      process.exitCode = error instanceof DomainError ? 2 : 1;
    } finally {
      if (ticker) clearInterval(ticker);
    }
  }
}

/** One line per watcher import: the folders and what changed. */
function watchLine(folders: string[], report: ImportReport): string {
  const c = report.counts;
  const shown =
    folders.length <= 3 ? folders.join(', ') : `${folders.slice(0, 3).join(', ')} and ${folders.length - 3} more`;
  return (
    `imported ${shown} in ${(report.durationMs / 1000).toFixed(1)} s: added ${c.added}, updated ${c.updated}, ` +
    `moved ${c.moved}, restored ${c.restored}, missing ${c.missing}, failed ${c.failed}`
  );
}

/** One plain progress line: the phase, files read of those to read, and the counts so far. */
function progressLine(p: ImportProgress): string {
  const c = p.counts;
  return (
    `${p.phase}: ${p.processed}/${p.total ?? '?'} files read | seen ${c.seen}, added ${c.added}, updated ${c.updated}, ` +
    `unchanged ${c.unchanged}, moved ${c.moved}, restored ${c.restored}, failed ${c.failed}, hashed ${c.hashed}`
  );
}
