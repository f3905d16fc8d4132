import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Inject } from '@nestjs/common';
import { Command, CommandRunner, Option } from 'nest-commander';
import {
  type ArchiveImportReport,
  ArchiveExportService,
  ArchiveImportService,
  BackupService,
  ConflictPolicy,
} from '@app/archive';
import { APP_CONFIG, type AppConfig, databaseLocation, errorMessage } from '@app/core';

const POLICIES = Object.values(ConflictPolicy) as string[];

const fail = (what: string, error: unknown) => {
  process.stderr.write(`${what} failed: ${errorMessage(error)}\n`);
  process.exitCode = 1;
};

@Command({
  name: 'export',
  arguments: '<file>',
  description: 'Write the library (adapters with user fields, results, deliveries, recipes) to a ZIP archive',
})
export class ExportCommand extends CommandRunner {
  constructor(
    private readonly exporter: ArchiveExportService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  @Option({ flags: '--with-files', description: 'Also carry the LoRA files, sidecars, previews and result images' })
  parseWithFiles(): boolean {
    return true;
  }

  async run([file]: string[], options: { withFiles?: boolean }): Promise<void> {
    const target = resolve(file);
    const temp = `${target}.partial`;
    const started = Date.now();
    try {
      await pipeline(this.exporter.export({ withFiles: options.withFiles ?? false }), createWriteStream(temp));
      await rename(temp, target);
      const { size } = await stat(target);
      const seconds = (Date.now() - started) / 1000;
      process.stdout.write(
        `Exported ${databaseLocation(this.config)} to ${target}: ${(size / 1048576).toFixed(1)} MiB in ${seconds.toFixed(1)} s\n`,
      );
    } catch (error) {
      await rm(temp, { force: true });
      fail('Export', error);
    }
  }
}

@Command({
  name: 'import-archive',
  arguments: '<file>',
  description: 'Read an archive into this database: adds, merges by SHA-256 then path, copies files into library roots',
})
export class ImportArchiveCommand extends CommandRunner {
  constructor(private readonly importer: ArchiveImportService) {
    super();
  }

  @Option({ flags: '--dry-run', description: 'Report what would be added, merged or conflict; change nothing' })
  parseDryRun(): boolean {
    return true;
  }

  @Option({
    flags: '--policy <policy>',
    description: `When both sides edited a field: ${POLICIES.join(' | ')} (default keep-mine)`,
  })
  parsePolicy(value: string): ConflictPolicy {
    if (!POLICIES.includes(value)) throw new Error(`--policy must be one of ${POLICIES.join(', ')}`);
    return value as ConflictPolicy;
  }

  @Option({ flags: '--json', description: 'Print the report as one JSON line' })
  parseJson(): boolean {
    return true;
  }

  async run([file]: string[], options: { dryRun?: boolean; policy?: ConflictPolicy; json?: boolean }): Promise<void> {
    try {
      const report = await this.importer.importFile(resolve(file), {
        dryRun: options.dryRun ?? false,
        policy: options.policy ?? ConflictPolicy.KeepMine,
      });
      process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : describeReport(report));
    } catch (error) {
      fail('Import', error);
    }
  }
}

@Command({ name: 'backup', description: 'Make a backup now (stored under backups/ in the file storage)' })
export class BackupCommand extends CommandRunner {
  constructor(private readonly backups: BackupService) {
    super();
  }

  async run(): Promise<void> {
    try {
      const made = await this.backups.create();
      process.stdout.write(`Backup ${made.name}: ${made.size} bytes\n`);
    } catch (error) {
      fail('Backup', error);
    }
  }
}

function describeReport(r: ArchiveImportReport): string {
  const lines = [
    `${r.dryRun ? 'Dry run (nothing written)' : 'Imported'}: archive v${r.manifest.formatVersion} from ${r.manifest.sourceDatabase}, ${r.manifest.createdAt}, policy ${r.policy}`,
    `  adapters     added ${r.adapters.added}, merged ${r.adapters.merged}, conflicts ${r.adapters.conflicts}, unchanged ${r.adapters.unchanged}, skipped ${r.adapters.skipped}`,
    `  results      added ${r.results.added}, existing ${r.results.existing}`,
    `  deliveries   added ${r.deliveries.added}, existing ${r.deliveries.existing}`,
    `  recipes      added ${r.recipes.added}, existing ${r.recipes.existing}`,
    `  files        copied ${r.files.copied}, existing ${r.files.existing}, skipped ${r.files.skipped}`,
    ...r.roots.map((root) => `  root ${root.archivePath} → ${root.localRootId ?? 'no local root (skipped)'}`),
    ...r.conflicts.map((c) => `  conflict ${c.name} (${c.localId}): ${c.fields.join(', ')}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** PostgreSQL: a backup is the logical archive, restored by importing it with the archive's values winning. */
@Command({
  name: 'restore-backup',
  arguments: '<file>',
  description:
    'Restore a backup with the service stopped: SQLite replaces the database file (kept aside), PostgreSQL imports the archive',
})
export class RestoreBackupCommand extends CommandRunner {
  constructor(private readonly importer: ArchiveImportService) {
    super();
  }

  async run([file]: string[]): Promise<void> {
    try {
      const report = await this.importer.importFile(resolve(file), {
        dryRun: false,
        policy: ConflictPolicy.TakeTheirs,
      });
      process.stdout.write(describeReport(report));
    } catch (error) {
      fail('Restore', error);
    }
  }
}
