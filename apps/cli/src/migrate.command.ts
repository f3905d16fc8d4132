import { Inject } from '@nestjs/common';
import { Command, CommandRunner, Option } from 'nest-commander';
import { InjectDataSource } from '@nestjs/typeorm';
import { APP_CONFIG, type AppConfig, DatabaseType, databaseLocation, pendingMigrations } from '@app/core';
import { DataSource } from 'typeorm';

interface MigrateOptions {
  check?: boolean;
}

@Command({ name: 'migrate', description: 'Apply pending database migrations (or list them with --check)' })
export class MigrateCommand extends CommandRunner {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  @Option({ flags: '--check', description: 'List pending migrations and exit 1 if there are any; change nothing' })
  parseCheck(): boolean {
    return true;
  }

  async run(_params: string[], options: MigrateOptions): Promise<void> {
    process.stdout.write(`Database: ${databaseLocation(this.config)}\n`);
    if (options.check) {
      const pending = await pendingMigrations(this.dataSource);
      if (pending.length === 0) {
        process.stdout.write('Database is up to date.\n');
        return;
      }
      process.stdout.write(`${pending.length} pending migration(s):\n${pending.map((name) => `  ${name}\n`).join('')}`);
      process.exitCode = 1;
      return;
    }
    // DATABASE_SCHEMA names a schema of the deployment's own: the first migrate creates it (a lower-case identifier,
    // checked by the config schema).
    if (this.config.database.type === DatabaseType.Postgres && this.config.database.schema) {
      await this.dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${this.config.database.schema}"`);
    }
    const applied = await this.dataSource.runMigrations({ transaction: 'each' });
    if (applied.length === 0) process.stdout.write('Database is up to date; nothing to apply.\n');
    for (const m of applied) process.stdout.write(`applied ${m.name}\n`);
  }
}
