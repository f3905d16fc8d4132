/**
 * Safe defaults and the first minutes of a new install, as real processes: the API refuses an open bind on the
 * network, boots with one summary block, finds its data from any current directory, and every app says in one line
 * what to do about a database that is missing, unreachable or not yet migrated.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AppProcess, type AppName, freePort, runCli } from './support/app-process.js';
import { generateCorpus } from './support/corpus-builder.js';
import { FakeSdNext } from './support/fake-sdnext.js';
import {
  createRedisPrefix,
  createTestDatabase,
  PG_ADMIN_URL,
  REDIS_URL,
  runMigrationsAt,
  tempDir,
} from './support/test-services.js';

const { MIGRATIONS } = await import('@app/migrations');

const REPO = resolve(import.meta.dirname, '..');
const run = promisify(execFile);

/** The `msg` of every JSON log line, and any line that is not JSON as it is. */
const messages = (text: string): string[] =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      try {
        return String((JSON.parse(line) as { msg: unknown }).msg);
      } catch {
        return line;
      }
    });

const STACK_FRAME = /^\s+at .+[:)]/m;

async function startedApi(env: Record<string, string>): Promise<AppProcess> {
  const port = await freePort();
  const api = new AppProcess('api', { ...env, PORT: String(port) }, port).start();
  await api.waitReady();
  return api;
}

describe('API bind without API keys', () => {
  const dir = tempDir('bind');
  const env = { DATA_DIR: dir.path };
  afterAll(() => dir.remove());

  it('should refuse to listen on a network interface with no API_KEYS: exit 2 and one message', async () => {
    const port = await freePort();
    const api = new AppProcess('api', { ...env, HOST: '0.0.0.0', PORT: String(port) }, port).start();
    expect(await api.exitCode()).toBe(2);
    const lines = api.text.trim().split('\n');
    expect(lines).toEqual([
      'Invalid configuration: HOST: 0.0.0.0 is reachable from the network but no API_KEYS are set, so anyone there could use ' +
        'the admin API. Set API_KEYS (key:role,…), listen on 127.0.0.1, or set ALLOW_OPEN_NETWORK=true if an open API on ' +
        'the network is intended',
    ]);
  });

  it('should start open on the network only with ALLOW_OPEN_NETWORK=true, and say so at boot', async () => {
    const api = await startedApi({ ...env, HOST: '0.0.0.0', ALLOW_OPEN_NETWORK: 'true' });
    try {
      expect(api.text).toContain('auth      open (no API_KEYS) on 0.0.0.0: ALLOW_OPEN_NETWORK=true');
      expect((await fetch(`${api.baseUrl}/api/v1/adapters`)).status).toBe(200);
    } finally {
      await api.stop();
    }
  });
});

describe('API boot summary', () => {
  const dir = tempDir('boot');
  const library = join(dir.path, 'loras');
  const missing = join(dir.path, 'nas-offline');
  const fake = new FakeSdNext({ flavour: 'sdnext' });
  let api: AppProcess;
  let fakeUrl: string;
  let deadUrl: string;

  beforeAll(async () => {
    mkdirSync(library);
    fakeUrl = await fake.start();
    deadUrl = `http://127.0.0.1:${await freePort()}`;
    api = await startedApi({
      DATA_DIR: join(dir.path, 'data'),
      HOST: '0.0.0.0',
      API_KEYS: 'viewer-key-0000000001:viewer,admin-key-00000000001:admin',
      LORA_ROOTS: `${library},${missing}`,
      SDNEXT_URL: `${fakeUrl},${deadUrl}`,
    });
  });

  afterAll(async () => {
    await api?.stop();
    await fake.stop();
    dir.remove();
  });

  it('should print one block with mode, database, data dir, library roots, SD.Next backends and auth', () => {
    const block = messages(api.text).find((m) => m.startsWith('LoRA Manager API listening on'));
    expect(block?.split('\n')).toEqual([
      expect.stringMatching(/^LoRA Manager API listening on http:\/\/0\.0\.0\.0:\d+ \(docs at \/docs\)$/),
      '  mode      embedded (SQLite, in-process jobs)',
      `  database  ${join(dir.path, 'data', 'lora-manager.sqlite')}`,
      `  data dir  ${join(dir.path, 'data')}`,
      `  storage   ${join(dir.path, 'data', 'storage')}`,
      `  library   ${library} (exists)`,
      `  library   ${missing} (missing)`,
      `  SD.Next   sdnext-0 ${fakeUrl} reachable (SD.Next)`,
      expect.stringMatching(new RegExp(`^  SD\\.Next   sdnext-1 ${deadUrl} not reachable \\(.*ECONNREFUSED`)),
      '  auth      2 API key(s): 1 viewer, 1 admin',
    ]);
  });

  it('should warn about a missing library root and an unreachable backend, and not dump the routes', () => {
    const all = messages(api.text);
    expect(all).toContain(
      `Library root ${missing} is missing (LORA_ROOTS): nothing under it can be imported or served`,
    );
    expect(all.some((m) => m.startsWith(`SD.Next backend sdnext-1 (${deadUrl}) is not reachable`))).toBe(true);
    expect(api.text).not.toMatch(/Mapped \{|RoutesResolver|RouterExplorer|InstanceLoader|dependencies initialized/);
    expect(api.text).not.toContain('LegacyRouteConverter');
    expect(api.text).not.toContain('admin-key-00000000001');
  });
});

describe('the default DATA_DIR', () => {
  const dir = tempDir('install');
  const install = join(dir.path, 'lora-manager');
  const library = join(dir.path, 'loras');

  beforeAll(async () => {
    // An installation elsewhere: the built apps, package.json and the dependencies.
    mkdirSync(install);
    cpSync(join(REPO, 'dist'), join(install, 'dist'), { recursive: true });
    cpSync(join(REPO, 'package.json'), join(install, 'package.json'));
    symlinkSync(join(REPO, 'node_modules'), join(install, 'node_modules'), 'dir');
    await generateCorpus(library, 3);
  }, 60_000);

  afterAll(() => dir.remove());

  const cliFrom = async (cwd: string, ...args: string[]): Promise<string> => {
    mkdirSync(cwd, { recursive: true });
    const { stdout } = await run(
      process.execPath,
      [join(install, 'dist', 'apps', 'cli', 'bundle', 'main.js'), ...args],
      {
        cwd,
        env: { PATH: process.env.PATH ?? '', LORA_ROOTS: library, LOG_FORMAT: 'json' },
      },
    );
    return stdout;
  };

  it('should be the installation data folder, so a CLI run from another folder uses the same database', async () => {
    const database = join(install, 'data', 'lora-manager.sqlite');
    const first = await cliFrom(join(dir.path, 'home'), 'import');
    expect(first).toContain(`database   ${database}`);
    const line = (await cliFrom(join(dir.path, 'elsewhere'), 'import', '--dry-run', '--json'))
      .split('\n')
      .find((l) => l.startsWith('{'));
    const second = JSON.parse(line ?? '{}') as { database: string; counts: Record<string, number> };
    expect(second.database).toBe(database);
    expect(second.counts).toMatchObject({ seen: 3, added: 0, unchanged: 3 });
    expect(existsSync(database)).toBe(true);
    for (const cwd of ['home', 'elsewhere']) expect(existsSync(join(dir.path, cwd, 'data'))).toBe(false);
    const check = await cliFrom(join(dir.path, 'elsewhere'), 'migrate', '--check');
    expect(check).toBe(`Database: ${database}\nDatabase is up to date.\n`);
  }, 120_000);
});

describe('a database that is missing, unreachable or not migrated', () => {
  const dir = tempDir('dbstart');
  const redis = createRedisPrefix('dbstart');
  let drop: (() => Promise<void>) | undefined;
  let url: string;
  const started: AppProcess[] = [];

  beforeAll(async () => {
    const db = await createTestDatabase('dbstart');
    drop = db.drop;
    url = db.url;
    // Every migration but the last: a deploy that started its processes before running `migrate`.
    await runMigrationsAt(url, MIGRATIONS.slice(0, -1));
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(started.map((p) => p.stop()));
    await redis.clear();
    await drop?.();
    dir.remove();
  });

  const scaleOut = (databaseUrl: string) => ({
    DATA_DIR: dir.path,
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    REDIS_PREFIX: redis.prefix,
  });
  const exitOf = async (app: AppName, databaseUrl: string): Promise<{ code: number | null; text: string }> => {
    const port = await freePort();
    const proc = new AppProcess(app, { ...scaleOut(databaseUrl), PORT: String(port), WORKER_PORT: String(port) }, port);
    proc.start(app === 'cli' ? ['import', '--dry-run'] : []);
    return { code: await proc.exitCode(), text: proc.text };
  };

  it('should end the API, the worker and the CLI with one line naming a missing database and how to create it', async () => {
    const missing = new URL(PG_ADMIN_URL);
    missing.pathname = `/newuser_db_${process.pid}`;
    for (const app of ['api', 'worker', 'cli'] as const) {
      const { code, text } = await exitOf(app, missing.toString());
      expect({ app, code }).toEqual({ app, code: 1 });
      expect({ app, lines: text.trim().split('\n') }).toEqual({
        app,
        lines: [
          `Database ${missing.toString()}: database "newuser_db_${process.pid}" does not exist on ${missing.hostname}:${missing.port || 5432}: ` +
            `create it (createdb -h ${missing.hostname} -p ${missing.port || 5432} -U ${missing.username} newuser_db_${process.pid}, ` +
            `or CREATE DATABASE "newuser_db_${process.pid}"), or point DATABASE_URL at an existing one`,
        ],
      });
    }
  }, 60_000);

  it('should end them with one line naming the host and port when PostgreSQL refuses the connection', async () => {
    const port = await freePort();
    for (const app of ['api', 'worker', 'cli'] as const) {
      const { code, text } = await exitOf(app, `postgres://postgres@127.0.0.1:${port}/lora`);
      expect({ app, code }).toEqual({ app, code: 1 });
      expect(text).toContain(`connection refused to 127.0.0.1:${port}: start PostgreSQL there`);
      expect(text.trim().split('\n')).toHaveLength(1);
      expect(text).not.toMatch(STACK_FRAME);
    }
  }, 60_000);

  it('should keep the API and worker not ready, naming migrate, until the pending migration is applied', async () => {
    const last = MIGRATIONS.at(-1)?.name ?? '';
    const apiPort = await freePort();
    const workerPort = await freePort();
    const api = new AppProcess('api', { ...scaleOut(url), PORT: String(apiPort) }, apiPort).start();
    const worker = new AppProcess('worker', { ...scaleOut(url), WORKER_PORT: String(workerPort) }, workerPort).start();
    started.push(api, worker);
    await Promise.all([api.waitReady('/health/live'), worker.waitReady('/health/live')]);
    for (const app of [api, worker]) {
      const res = await fetch(`${app.baseUrl}/health/ready`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { details: Record<string, { status: string; message?: string }> };
      expect(body.details.database.status).toBe('up');
      expect(body.details.migrations).toEqual({
        status: 'down',
        message: `1 database migration(s) pending (${last}): run \`migrate\` (npm run cli -- migrate) before serving`,
      });
      expect(
        messages(app.text).some(
          (m) => m.includes(`1 database migration(s) pending (${last})`) && m.includes('/health/ready answers 503'),
        ),
      ).toBe(true);
    }

    const check = await runCli(['migrate', '--check'], scaleOut(url));
    expect(check.code).toBe(1);
    expect(check.output).toContain(`1 pending migration(s):\n  ${last}\n`);

    const applied = await runCli(['migrate'], scaleOut(url));
    expect(applied.code).toBe(0);
    expect(applied.output).toContain(`applied ${last}`);
    for (const app of [api, worker]) expect((await fetch(`${app.baseUrl}/health/ready`)).status).toBe(200);
    expect((await runCli(['migrate', '--check'], scaleOut(url))).code).toBe(0);
  }, 90_000);
});
