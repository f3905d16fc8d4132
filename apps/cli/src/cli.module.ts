import { type DynamicModule, Module } from '@nestjs/common';
import { AdaptersModule, LibraryWatchModule, WatchHostApp } from '@app/adapters';
import { ArchiveModule } from '@app/archive';
import { ConfigModule, DatabaseModule, JobsModule, SecurityModule, StorageModule } from '@app/core';
import { ResultsModule } from '@app/results';
import { ENTITIES, MIGRATIONS } from '@app/migrations';
import { CivitaiCommand } from './civitai.command.js';
import { BackupCommand, ExportCommand, ImportArchiveCommand, RestoreBackupCommand } from './archive.command.js';
import { HashCommand } from './hash.command.js';
import { ImportCommand } from './import.command.js';
import { MigrateCommand } from './migrate.command.js';
import { StorageCheckCommand, StorageCommand } from './storage.command.js';

@Module({})
export class CliModule {
  /** Embedded mode (SQLite) migrates at boot like the API does, except for `migrate` itself. */
  static forRoot(options: { migrateOnBoot: boolean }): DynamicModule {
    return {
      module: CliModule,
      imports: [
        ConfigModule,
        DatabaseModule.forRoot({ entities: ENTITIES, migrations: MIGRATIONS, migrateOnBoot: options.migrateOnBoot }),
        // The CLI only enqueues: a running API (embedded) or the workers (scale-out) run the jobs.
        JobsModule.forRoot({ runJobs: false, forwardEvents: false }),
        StorageModule,
        SecurityModule,
        AdaptersModule,
        LibraryWatchModule.forApp(WatchHostApp.Cli),
        ArchiveModule.forApp({ scheduleBackups: false }),
        ResultsModule,
      ],
      providers: [
        MigrateCommand,
        ImportCommand,
        HashCommand,
        ExportCommand,
        ImportArchiveCommand,
        BackupCommand,
        RestoreBackupCommand,
        CivitaiCommand,
        StorageCommand,
        StorageCheckCommand,
      ],
    };
  }
}
