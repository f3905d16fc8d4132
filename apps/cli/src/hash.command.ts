import { HashRunService, type HashRunEntity, HashRunStatus, HashRunTrigger } from '@app/adapters';
import { Inject } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, databaseLocation, type HashRunCounts, errorMessage } from '@app/core';
import { Command, CommandRunner, Option } from 'nest-commander';

interface HashCommandOptions {
  wait?: boolean;
  json?: boolean;
}

/** Without a terminal, a progress line at least this often. */
const PROGRESS_EVERY_MS = 1000;

@Command({
  name: 'hash',
  description:
    'Hash every present file whose hash was never computed (SHA-256, AutoV2, AutoV3): queue a hash run for the API or workers, or do it here with --wait',
})
export class HashCommand extends CommandRunner {
  constructor(
    private readonly runs: HashRunService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  @Option({
    flags: '--wait',
    description: 'Do the run in this process (or follow the one another process does) and print its counts',
  })
  parseWait(): boolean {
    return true;
  }

  @Option({ flags: '--json', description: 'Print one machine-readable JSON line' })
  parseJson(): boolean {
    return true;
  }

  async run(_args: string[], options: HashCommandOptions): Promise<void> {
    try {
      if (!options.wait) {
        const { run, created } = await this.runs.start(HashRunTrigger.Cli);
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ runId: run.id, created, status: run.status })}\n`);
          return;
        }
        process.stdout.write(
          `${created ? 'Queued hash run' : 'A hash run is already active:'} ${run.id} (${run.status})\n` +
            `  database  ${databaseLocation(this.config)}\n` +
            'A running API (embedded) or the workers (scale-out) do it; `hash --wait` does it here.\n',
        );
        return;
      }
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      let lastLine = 0;
      const onProgress = (counts: HashRunCounts) => {
        if (options.json || Date.now() - lastLine < PROGRESS_EVERY_MS) return;
        lastLine = Date.now();
        process.stdout.write(`${progressLine(counts)}\n`);
      };
      const run = await this.runs.runHere({ signal: controller.signal, onProgress });
      process.off('SIGINT', stop);
      this.report(run, options.json ?? false);
      if (run.status !== HashRunStatus.Completed) process.exitCode = 1;
    } catch (error) {
      process.stderr.write(`Hash failed: ${errorMessage(error)}\n`);
      process.exitCode = 1;
    }
  }

  private report(run: HashRunEntity, json: boolean): void {
    const c = run.counts;
    if (json) {
      process.stdout.write(
        `${JSON.stringify({ runId: run.id, status: run.status, database: databaseLocation(this.config), counts: c, failures: run.failures, error: run.error })}\n`,
      );
      return;
    }
    const seconds = run.startedAt && run.finishedAt ? (+run.finishedAt - +run.startedAt) / 1000 : 0;
    process.stdout.write(
      `\nHash run ${run.id} ${run.status} in ${seconds.toFixed(1)} s${run.error ? `: ${run.error}` : ''}\n` +
        `  database    ${databaseLocation(this.config)}\n` +
        `  total       ${c.total}\n  hashed      ${c.hashed}\n  mismatched  ${c.mismatched}\n` +
        `  skipped     ${c.skipped}\n  failed      ${c.failed}\n  read        ${(c.bytes / 1048576).toFixed(1)} MiB\n`,
    );
    for (const f of run.failures) process.stdout.write(`  ${f.path}: ${f.reason}\n`);
  }
}

function progressLine(c: HashRunCounts): string {
  return `hashing: ${c.hashed + c.failed + c.skipped}/${c.total} files | hashed ${c.hashed}, mismatched ${c.mismatched}, failed ${c.failed}, ${(c.bytes / 1048576).toFixed(0)} MiB`;
}
