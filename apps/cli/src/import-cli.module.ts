import { type DynamicModule, Module } from '@nestjs/common';
import { AdaptersModule, LibraryWatchModule, WatchHostApp } from '@app/adapters';
import { ConfigModule, DatabaseModule, JobsModule, StorageModule } from '@app/core';
import { ENTITIES, MIGRATIONS } from '@app/migrations';
import { ImportCommand } from './import.command.js';

/**
 * `import` alone, with only the modules it uses: the command a user runs most, and waits for, starts without
 * loading archives, results or the other commands (see `CliModule` for the rest).
 */
@Module({})
export class ImportCliModule {
  static forRoot(): DynamicModule {
    return {
      module: ImportCliModule,
      imports: [
        ConfigModule,
        DatabaseModule.forRoot({ entities: ENTITIES, migrations: MIGRATIONS, migrateOnBoot: true }),
        // The import enqueues the hash run for the files it left unhashed; a running API or the workers run it.
        JobsModule.forRoot({ runJobs: false, forwardEvents: false }),
        StorageModule,
        AdaptersModule,
        LibraryWatchModule.forApp(WatchHostApp.Cli),
      ],
      providers: [ImportCommand],
    };
  }
}
