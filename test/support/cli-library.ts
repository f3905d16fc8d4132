// The CLI-driven import tests' common ground: a migrated database of either dialect, and `import --json` runs.
import { expect } from '@jest/globals';
import { join } from 'node:path';
import { runCli } from './app-process.js';
import { createTestDatabase } from './test-services.js';

export type Dialect = 'sqlite' | 'postgres';

/** The one JSON line `import --json` prints. */
export interface ImportSummary {
  runId: string | null;
  dryRun: boolean;
  workerThreads: number;
  counts: Record<
    'seen' | 'added' | 'updated' | 'unchanged' | 'moved' | 'missing' | 'restored' | 'failed' | 'hashed',
    number
  >;
  failures: { path: string; reason: string }[];
  failureCount: number;
  changes?: { path: string; change: string; from?: string }[];
}

/**
 * A database for the CLI under `dataDir`: the embedded SQLite file, or a fresh PostgreSQL database, migrated.
 * `env` holds `DATA_DIR` (and `DATABASE_URL`); `dbUrl` is for `queryRows`; `drop` removes a PostgreSQL database.
 */
export async function cliDatabase(
  dialect: Dialect,
  label: string,
  dataDir: string,
): Promise<{ env: Record<string, string>; dbUrl: string; drop: () => Promise<void> }> {
  if (dialect === 'sqlite') {
    return {
      env: { DATA_DIR: dataDir },
      dbUrl: `sqlite:${join(dataDir, 'lora-manager.sqlite')}`,
      drop: () => Promise.resolve(),
    };
  }
  const db = await createTestDatabase(label);
  const env = { DATA_DIR: dataDir, DATABASE_URL: db.url };
  expect((await runCli(['migrate'], env)).code).toBe(0);
  return { env, dbUrl: db.url, drop: db.drop };
}

/** `import --json …args` with `env`: its summary; a non-zero exit fails the test with the output. */
export async function importJson(env: Record<string, string>, ...args: string[]): Promise<ImportSummary> {
  const { code, output } = await runCli(['import', '--json', ...args], env);
  expect({ code, output }).toMatchObject({ code: 0 });
  const line = output.split('\n').find((l) => l.startsWith('{"runId"'));
  if (!line) throw new Error(`no JSON summary in:\n${output}`);
  return JSON.parse(line) as ImportSummary;
}
