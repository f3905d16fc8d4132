import type { DynamicModule } from '@nestjs/common';
import { CommandFactory } from 'nest-commander';
import { assertDatabaseReachable, DatabaseType, loadConfig } from '@app/core';
import { restoreBackup } from './restore-backup.js';

export async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const args = process.argv.slice(2);
  // A SQLite restore replaces the database file: it runs before anything opens it.
  if (args[0] === 'restore-backup' && config.database.type === DatabaseType.Sqlite) {
    process.exitCode = restoreBackup(config, args.slice(1));
    return;
  }
  if (!args.some((a) => a === '--help' || a === '-h')) await assertDatabaseReachable(config);
  await CommandFactory.run(await commandModule(args[0]), {
    logger: ['error', 'warn'],
    errorHandler: (error) => {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    },
    serviceErrorHandler: (error) => {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    },
  });
}

/** `import` boots only what it uses (see `ImportCliModule`); every other command, and `--help`, the whole CLI. */
async function commandModule(command: string | undefined): Promise<DynamicModule> {
  if (command === 'import') return (await import('./import-cli.module.js')).ImportCliModule.forRoot();
  const { CliModule } = await import('./cli.module.js');
  return CliModule.forRoot({ migrateOnBoot: command !== 'migrate' });
}
