import {
  CivitaiRunService,
  type CivitaiRunEntity,
  CivitaiRunKind,
  CivitaiRunStatus,
  CivitaiRunTrigger,
} from '@app/adapters';
import { Inject } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, type CivitaiRunCounts, databaseLocation, errorMessage } from '@app/core';
import { Command, CommandRunner, Option } from 'nest-commander';

interface CivitaiCommandOptions {
  wait?: boolean;
  json?: boolean;
}

const KINDS: Record<string, CivitaiRunKind> = {
  lookup: CivitaiRunKind.Lookup,
  'check-updates': CivitaiRunKind.UpdateCheck,
};

/** Without a terminal, a progress line at least this often. */
const PROGRESS_EVERY_MS = 1000;

@Command({
  name: 'civitai',
  arguments: '<action>',
  description:
    'Civitai runs: `lookup` looks every unmatched hashed file up by its SHA-256, `check-updates` records newer versions of linked adapters; queued for the API or workers, or done here with --wait',
})
export class CivitaiCommand extends CommandRunner {
  constructor(
    private readonly runs: CivitaiRunService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  @Option({ flags: '--wait', description: 'Do the run in this process (or follow the one another process does)' })
  parseWait(): boolean {
    return true;
  }

  @Option({ flags: '--json', description: 'Print one machine-readable JSON line' })
  parseJson(): boolean {
    return true;
  }

  async run([action]: string[], options: CivitaiCommandOptions): Promise<void> {
    const kind = KINDS[action];
    if (!kind) {
      process.stderr.write(`Unknown action "${action}": use lookup or check-updates\n`);
      process.exitCode = 2;
      return;
    }
    try {
      if (!options.wait) {
        const { run, created } = await this.runs.start(kind, {}, CivitaiRunTrigger.Cli);
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ runId: run.id, created, kind: run.kind, status: run.status })}\n`);
          return;
        }
        process.stdout.write(
          `${created ? 'Queued Civitai run' : 'A Civitai run is already active:'} ${run.id} (${run.kind}, ${run.status})\n` +
            `  database  ${databaseLocation(this.config)}\n` +
            'A running API (embedded) or the workers (scale-out) do it; `--wait` does it here.\n',
        );
        return;
      }
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      let lastLine = 0;
      const onProgress = (c: CivitaiRunCounts) => {
        if (options.json || Date.now() - lastLine < PROGRESS_EVERY_MS) return;
        lastLine = Date.now();
        process.stdout.write(
          `civitai ${action}: ${c.done}/${c.total} | found ${c.found}, not found ${c.notFound}, failed ${c.failed}\n`,
        );
      };
      const run = await this.runs.runHere(kind, {}, { signal: controller.signal, onProgress });
      process.off('SIGINT', stop);
      this.report(run, options.json ?? false);
      if (run.status !== CivitaiRunStatus.Completed) process.exitCode = 1;
    } catch (error) {
      process.stderr.write(`Civitai ${action} failed: ${errorMessage(error)}\n`);
      process.exitCode = 1;
    }
  }

  private report(run: CivitaiRunEntity, json: boolean): void {
    const c = run.counts;
    if (json) {
      process.stdout.write(
        `${JSON.stringify({ runId: run.id, kind: run.kind, status: run.status, counts: c, failures: run.failures, error: run.error })}\n`,
      );
      return;
    }
    const seconds = run.startedAt && run.finishedAt ? (+run.finishedAt - +run.startedAt) / 1000 : 0;
    process.stdout.write(
      `\nCivitai ${run.kind} run ${run.id} ${run.status} in ${seconds.toFixed(1)} s${run.error ? `: ${run.error}` : ''}\n` +
        `  total         ${c.total}\n  found         ${c.found}\n  not found     ${c.notFound}\n` +
        `  with updates  ${c.withUpdates}\n  failed        ${c.failed}\n`,
    );
    for (const f of run.failures) process.stdout.write(`  ${f.adapterId}: ${f.reason}\n`);
  }
}
