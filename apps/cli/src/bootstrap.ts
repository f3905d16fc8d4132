import { CommandFactory } from 'nest-commander';
import { assertDatabaseReachable, loadConfig } from '@app/core';
import { CliModule } from './cli.module.js';

export async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const args = process.argv.slice(2);
  if (!args.some((a) => a === '--help' || a === '-h')) await assertDatabaseReachable(config);
  await CommandFactory.run(CliModule.forRoot({ migrateOnBoot: process.argv[2] !== 'migrate' }), {
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
