/**
 * The folder watcher and the start-up import scaled out: two workers and an API, all with LORA_WATCH=true and
 * IMPORT_ON_START=true, on PostgreSQL and Redis. One worker queues the start-up import and one watches; when the
 * watching worker is killed, the other takes over.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { generateCorpus } from './support/corpus-builder.js';
import { queryRows } from './support/db-inspect.js';
import { createRedisPrefix, createTestDatabase, REDIS_URL, tempDir } from './support/test-services.js';
import { LibraryClient, loraBytes, waitFor } from './support/watch-library.js';

const CORPUS = 20;
const WATCHING = 'Watching 1 library root(s)';

describe('folder watcher scaled out (2 workers + API on PostgreSQL and Redis)', () => {
  const dir = tempDir('watch-scale');
  const root = join(dir.path, 'loras');
  const redis = createRedisPrefix('watch');
  let dbUrl: string;
  let dropDb: (() => Promise<void>) | undefined;
  const started: AppProcess[] = [];
  let workers: AppProcess[];
  let api: AppProcess;
  let lib: LibraryClient;

  const start = async (app: 'api' | 'worker', env: Record<string, string>): Promise<AppProcess> => {
    const port = await freePort();
    const proc = new AppProcess(app, { ...env, [app === 'api' ? 'PORT' : 'WORKER_PORT']: String(port) }, port).start();
    started.push(proc);
    return proc;
  };
  const holder = async (): Promise<string | null> => {
    const rows = await queryRows<{ holder: string | null; expires_at: Date }>(
      dbUrl,
      "SELECT holder, expires_at FROM process_leases WHERE name = 'library-watch'",
    );
    return rows[0] && new Date(rows[0].expires_at).getTime() > Date.now() ? rows[0].holder : null;
  };

  beforeAll(async () => {
    const [db] = await Promise.all([
      createTestDatabase('watch'),
      generateCorpus(root, CORPUS, { perDir: 10, sidecars: false }),
    ]);
    dbUrl = db.url;
    dropDb = db.drop;
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL,
      REDIS_PREFIX: redis.prefix,
      DATA_DIR: join(dir.path, 'data'),
      LORA_ROOTS: root,
      LORA_WATCH: 'true',
      IMPORT_ON_START: 'true',
      LORA_WATCH_DEBOUNCE_SECONDS: '0.5',
      LORA_WATCH_SETTLE_SECONDS: '0.5',
      HASH_AFTER_IMPORT: 'false',
    };
    expect((await runCli(['migrate'], env)).code).toBe(0);
    workers = await Promise.all([start('worker', env), start('worker', env)]);
    api = await start('api', env);
    await Promise.all([...workers, api].map((p) => p.waitReady()));
    lib = new LibraryClient(api.baseUrl);
  }, 90_000);

  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop()));
    await dropDb?.();
    await redis.clear();
    dir.remove();
  });

  it('should run one start-up import for the deployment', async () => {
    await waitFor('the start-up import', async () => (await lib.total()) === CORPUS, 30_000, 100);
    const runs = await lib.idle();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'completed', roots: [root] });
    expect(runs[0].counts).toMatchObject({ added: CORPUS });
    const queuedBy = workers.filter((w) => w.text.includes('Start-up import queued'));
    expect(queuedBy).toHaveLength(1);
    expect(api.text).not.toContain('Start-up import');
  });

  it('should have exactly one worker watch, and import what is copied into the library', async () => {
    await waitFor('a worker to watch', () => workers.some((w) => w.text.includes(WATCHING)), 20_000, 100);
    const watching = workers.filter((w) => w.text.includes(WATCHING));
    expect(watching).toHaveLength(1);
    expect(api.text).not.toContain(WATCHING);
    expect(await holder()).toContain(`/${watching[0].pid}/`);

    const before = (await lib.runs()).length;
    await writeFile(join(root, 'd0001', 'copied_in.safetensors'), loraBytes('copied_in'));
    await waitFor('the copied file to be listed', async () => (await lib.total({ q: 'copied_in' })) === 1);
    const runs = await lib.idle();
    expect(runs).toHaveLength(before + 1);
    expect(runs[0]).toMatchObject({ status: 'completed', roots: [join(root, 'd0001')] });
    expect(runs[0].counts).toMatchObject({ added: 1, unchanged: 10, seen: 11, missing: 0 });
  });

  it('should hand the watch to the other worker when the watching one dies', async () => {
    const [watching] = workers.filter((w) => w.text.includes(WATCHING));
    const other = workers.find((w) => w !== watching)!;
    const killedAt = Date.now();
    await watching.kill9();
    await waitFor('the other worker to take over', () => other.text.includes(WATCHING), 20_000, 100);
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan(15_000);
    expect(await holder()).toContain(`/${other.pid}/`);

    await writeFile(join(root, 'd0000', 'after_takeover.safetensors'), loraBytes('after_takeover'));
    await waitFor('a file copied after the takeover', async () => (await lib.total({ q: 'after_takeover' })) === 1);
    expect(await lib.total()).toBe(CORPUS + 2);
  }, 40_000);
});
