import { CommandFactory } from 'nest-commander';
import { loadConfig } from '@app/core';
import { CliModule } from './cli.module.js';

export async function bootstrap(): Promise<void> {
  loadConfig();
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
