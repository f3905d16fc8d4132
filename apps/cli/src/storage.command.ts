import { Inject } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, errorMessage } from '@app/core';
import { type StorageCheckReport, StorageCheckService } from '@app/results';
import { Command, CommandRunner, Option, SubCommand } from 'nest-commander';

interface CheckOptions {
  repair?: boolean;
  json?: boolean;
  graceHours?: number;
}

@SubCommand({
  name: 'check',
  description:
    'Find generated-image files no result names (orphans) and results whose file is gone; --repair deletes orphans older than the grace period and the results without a file',
})
export class StorageCheckCommand extends CommandRunner {
  constructor(
    private readonly checker: StorageCheckService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  @Option({ flags: '--repair', description: 'Delete what the check finds (see --grace-hours)' })
  parseRepair(): boolean {
    return true;
  }

  @Option({ flags: '--json', description: 'Print one machine-readable JSON line' })
  parseJson(): boolean {
    return true;
  }

  @Option({
    flags: '--grace-hours <hours>',
    description: 'Orphans younger than this are never deleted (default RESULTS_ORPHAN_GRACE_HOURS, 24)',
  })
  parseGrace(value: string): number {
    const hours = Number(value);
    if (!Number.isFinite(hours) || hours < 0) throw new Error('--grace-hours must be a number ≥ 0');
    return hours;
  }

  async run(_args: string[], options: CheckOptions): Promise<void> {
    try {
      const report = await this.checker.check({
        repair: options.repair ?? false,
        graceMs: options.graceHours === undefined ? undefined : Math.round(options.graceHours * 3_600_000),
      });
      process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : text(report, this.config.storageDir));
      // Problems left in place (a check without --repair) make the exit code 1, for scripts and cron.
      const left = report.orphans.count - report.orphans.deleted + report.broken.count - report.broken.deleted;
      if (!report.repair && left > 0) process.exitCode = 1;
    } catch (error) {
      process.stderr.write(`Storage check failed: ${errorMessage(error)}\n`);
      process.exitCode = 1;
    }
  }
}

function text(r: StorageCheckReport, storageDir: string): string {
  const lines = [
    `Storage check of ${storageDir}${r.repair ? ' (repair)' : ''}`,
    `  files             ${r.files.count} (${r.files.bytes} bytes) under generations/`,
    `  results           ${r.rows}`,
    `  orphaned files    ${r.orphans.count} (${r.orphans.bytes} bytes)${r.repair ? `, deleted ${r.orphans.deleted} (older than ${r.graceHours} h)` : ''}`,
    `  without a result  ${r.unrecorded.count} (their generation job still serves them: kept)`,
    `  results w/o file  ${r.broken.count}${r.repair ? `, deleted ${r.broken.deleted}` : ''}`,
  ];
  for (const key of r.orphans.sample) lines.push(`    orphan  ${key}`);
  for (const id of r.broken.sample) lines.push(`    broken  ${id}`);
  if (!r.repair && r.orphans.count + r.broken.count > 0) lines.push('Run `storage check --repair` to delete them.');
  return `${lines.join('\n')}\n`;
}

@Command({
  name: 'storage',
  description: 'Inspect the file storage',
  subCommands: [StorageCheckCommand],
})
export class StorageCommand extends CommandRunner {
  async run(): Promise<void> {
    process.stdout.write('Usage: storage check [--repair] [--json] [--grace-hours N]\n');
    process.exitCode = 2;
    return Promise.resolve();
  }
}
