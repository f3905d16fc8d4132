import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import {
  ALPHA_EDIT,
  type HostileArchive,
  seedResultAndDelivery,
  USER_COLUMNS,
  writeHalfBadArchive,
  writeHostileArchives,
  writeLibrary,
  zipEntries,
} from './support/archive-fixtures.js';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { cliDatabase, importJson } from './support/cli-library.js';
import { execute, queryRows } from './support/db-inspect.js';
import { tinyPng } from './support/images.js';
import { createRedisPrefix, REDIS_URL, tempDir } from './support/test-services.js';

// Each step runs CLI processes or moves archives through real processes.
jest.setTimeout(120_000);

const ADMIN = 'admin-key-archive-0001';
const EDITOR = 'editor-key-archive-0001';
const KEYS = `${ADMIN}:admin,${EDITOR}:editor`;
/** Small caps so the hostile archives trip them cheaply (see writeHostileArchives). */
const LIMITS = { ARCHIVE_MAX_ENTRIES: '50', ARCHIVE_MAX_GB: '0.04', ARCHIVE_MAX_RATIO: '100' };

interface Report {
  dryRun: boolean;
  adapters: Record<'added' | 'merged' | 'conflicts' | 'unchanged' | 'skipped', number>;
  conflicts: { name: string; fields: string[] }[];
  results: { added: number; existing: number };
  deliveries: { added: number; existing: number };
  files: { copied: number; existing: number; skipped: number };
}

const api = (base: string) => ({
  async call(method: string, path: string, body?: unknown, key = ADMIN) {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    const type = res.headers.get('content-type') ?? '';
    return { status: res.status, bytes, body: type.includes('json') ? JSON.parse(bytes.toString()) : {} };
  },
  async upload(file: string, query: string) {
    const res = await fetch(`${base}/api/v1/archive/import?${query}`, {
      method: 'POST',
      headers: { 'x-api-key': ADMIN, 'content-type': 'application/zip' },
      body: readFileSync(file),
    });
    return { status: res.status, body: (await res.json()) as Report & { code?: string; message?: string } };
  },
});

const cliReport = async (env: Record<string, string>, ...args: string[]): Promise<Report> => {
  const { code, output } = await runCli(['import-archive', '--json', ...args], env);
  expect({ code, output }).toMatchObject({ code: 0 });
  return JSON.parse(output.split('\n').find((l) => l.startsWith('{"dryRun"'))!) as Report;
};

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();

const userRows = (url: string) =>
  queryRows<Record<string, unknown>>(url, `SELECT ${USER_COLUMNS} FROM adapters ORDER BY relative_path`);

/** JSON columns come back parsed from PostgreSQL, as text from SQLite; booleans as 0/1 from SQLite. */
const normalise = (rows: Record<string, unknown>[]) =>
  rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => {
        const value: unknown = typeof v === 'string' && /^[[{]/.test(v) ? JSON.parse(v) : v;
        if (k === 'favorite' || k === 'active') return [k, Boolean(value)];
        if (k === 'user_edited') return [k, [...(value as string[])].sort()];
        return [k, value];
      }),
    ),
  );

async function expectHostileRefused(
  hostile: HostileArchive[],
  send: (file: string) => Promise<{ code: string; message: string }>,
  unchanged: () => Promise<unknown>,
): Promise<void> {
  const before = await unchanged();
  for (const archive of hostile) {
    const answer = await send(archive.file);
    expect({ label: archive.label, code: answer.code }).toEqual({ label: archive.label, code: archive.code });
    expect(answer.message.length).toBeGreaterThan(10);
  }
  expect(await unchanged()).toEqual(before);
}

describe('archive: SQLite embedded, and the move to PostgreSQL', () => {
  const dir = tempDir('archive-sqlite');
  const root = join(dir.path, 'library');
  const target = join(dir.path, 'library-target');
  const sqliteUrl = `sqlite:${join(dir.path, 'data', 'lora-manager.sqlite')}`;
  const env: Record<string, string> = { DATA_DIR: join(dir.path, 'data'), LORA_ROOTS: root, API_KEYS: KEYS, ...LIMITS };
  let app: AppProcess;
  let http: ReturnType<typeof api>;
  let alphaId = '';
  let archiveWithFiles = '';
  let pgTarget: { env: Record<string, string>; dbUrl: string; drop: () => Promise<void> };

  const startApi = async () => {
    const port = await freePort();
    app = new AppProcess('api', { ...env, PORT: String(port) }, port).start();
    await app.waitReady();
    http = api(app.baseUrl);
  };

  beforeAll(async () => {
    await writeLibrary(root);
    mkdirSync(target, { recursive: true });
    await importJson(env, '--hash', 'full');
    await startApi();
    const [alpha] = await queryRows<{ id: string }>(
      sqliteUrl,
      "SELECT id FROM adapters WHERE file_name = 'alpha.safetensors'",
    );
    alphaId = alpha.id;
    expect((await http.call('PATCH', `/adapters/${alphaId}`, ALPHA_EDIT, EDITOR)).status).toBe(200);
    await seedResultAndDelivery(sqliteUrl, join(env.DATA_DIR, 'storage'), alphaId);
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    await pgTarget?.drop();
    dir.remove();
  });

  it('should keep every archive and backup route to admins', async () => {
    for (const [method, path] of [
      ['GET', '/archive/estimate'],
      ['POST', '/archive/export'],
      ['GET', '/backups'],
      ['POST', '/backups'],
    ]) {
      expect((await http.call(method, path, method === 'POST' ? {} : undefined, EDITOR)).status).toBe(403);
    }
  });

  it('should estimate the files and bytes an export with files carries', async () => {
    const { status, body } = await http.call('GET', '/archive/estimate');
    expect(status).toBe(200);
    const lora = ['alpha.safetensors', 'alpha.preview.png', 'styles/beta.safetensors'].map(
      (f) => readFileSync(join(root, f)).length,
    );
    expect(body).toMatchObject({ adapters: 2, results: 1, deliveries: 1, files: 4 });
    // The library's three files and the result's image, to the byte (the image is the fixture's "a fox").
    expect(body.fileBytes).toBe(lora.reduce((a, b) => a + b, 0) + tinyPng('a fox').length);
  });

  it('should stream a versioned archive with the rows and the files', async () => {
    const { status, bytes } = await http.call('POST', '/archive/export', { withFiles: true });
    expect(status).toBe(200);
    archiveWithFiles = join(dir.path, 'with-files.zip');
    writeFileSync(archiveWithFiles, bytes);
    const { entries, manifest } = await zipEntries(archiveWithFiles);
    expect(manifest).toMatchObject({
      format: 'lora-manager-archive',
      formatVersion: 1,
      sourceDatabase: 'sqlite',
      withFiles: true,
      counts: { adapters: 2, results: 1, resultAdapters: 1, deliveries: 1, files: 4 },
    });
    const names = entries.map((e) => e.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'data/adapters.ndjson',
        'data/results.ndjson',
        'data/deliveries.ndjson',
        expect.stringMatching(/^files\/[0-9a-f]{12}\/alpha\.safetensors$/),
        expect.stringMatching(/^files\/[0-9a-f]{12}\/alpha\.preview\.png$/),
        expect.stringMatching(/^files\/[0-9a-f]{12}\/styles\/beta\.safetensors$/),
        expect.stringMatching(/^results\/results\/2026\/12\/.+\.png$/),
      ]),
    );
  });

  it('should export from the CLI too, rows only by default', async () => {
    const file = join(dir.path, 'cli.zip');
    const { code, output } = await runCli(['export', file], env);
    expect({ code, output }).toMatchObject({ code: 0 });
    const { entries, manifest } = await zipEntries(file);
    expect(manifest.counts).toMatchObject({ adapters: 2, files: 0 });
    expect(entries.some((e) => e.name.startsWith('files/'))).toBe(false);
  });

  it('should refuse every hostile archive with a clear 400 and change nothing', async () => {
    const hostile = writeHostileArchives(join(dir.path, 'hostile'), readFileSync(archiveWithFiles));
    const half = join(dir.path, 'hostile', 'half-bad.zip');
    const [template] = await queryRows<{ root_id: string }>(sqliteUrl, 'SELECT root_id FROM adapters LIMIT 1');
    const adapterRow = JSON.parse(
      (await zipEntryText(archiveWithFiles, 'data/adapters.ndjson')).split('\n')[0],
    ) as Record<string, unknown>;
    writeHalfBadArchive(half, { id: template.root_id, path: root }, adapterRow);
    hostile.push({ label: 'bad row after a good one', file: half, code: 'archive_row_invalid' });
    await expectHostileRefused(
      hostile,
      async (file) => {
        const { status, body } = await http.upload(file, 'policy=take-theirs');
        expect(status).toBe(400);
        return body as unknown as { code: string; message: string };
      },
      async () => ({ rows: await userRows(sqliteUrl), files: filesUnder(root) }),
    );
    expect(existsSync(join(root, 'late', 'new.safetensors'))).toBe(false);
    const wrongType = await fetch(`${app.baseUrl}/api/v1/archive/import`, {
      method: 'POST',
      headers: { 'x-api-key': ADMIN, 'content-type': 'multipart/form-data; boundary=x' },
      body: '--x--',
    });
    expect(wrongType.status).toBe(415);
  });

  it('should move the library to PostgreSQL with every user edit, result and delivery', async () => {
    pgTarget = await cliDatabase('postgres', 'archive_move', join(dir.path, 'pg-data'));
    const pgEnv = { ...pgTarget.env, LORA_ROOTS: target, ...LIMITS };
    const dry = await cliReport(pgEnv, archiveWithFiles, '--dry-run');
    expect(dry).toMatchObject({ dryRun: true, adapters: { added: 2 }, files: { copied: 4 } });
    expect(await queryRows(pgTarget.dbUrl, 'SELECT id FROM adapters')).toEqual([]);
    expect(filesUnder(target)).toEqual([]);

    const applied = await cliReport(pgEnv, archiveWithFiles);
    expect(applied).toMatchObject({
      adapters: { added: 2, merged: 0, conflicts: 0 },
      results: { added: 1 },
      deliveries: { added: 1 },
      recipes: { added: 1 },
      files: { copied: 4 },
    });
    const source = normalise(await userRows(sqliteUrl));
    expect(normalise(await userRows(pgTarget.dbUrl))).toEqual(source);
    expect(source[0]).toMatchObject({ notes: ALPHA_EDIT.notes, favorite: true, ordinal: 3 });
    expect(filesUnder(target)).toEqual(['alpha.preview.png', 'alpha.safetensors', 'styles/beta.safetensors']);
    expect(readFileSync(join(target, 'alpha.safetensors'))).toEqual(readFileSync(join(root, 'alpha.safetensors')));
    const [result] = await queryRows<{ storage_key: string; notes: string; rating: number }>(
      pgTarget.dbUrl,
      'SELECT storage_key, notes, rating FROM generation_results',
    );
    expect(result).toMatchObject({ notes: 'best one', rating: 4 });
    expect(existsSync(join(dir.path, 'pg-data', 'storage', result.storage_key))).toBe(true);
    const [link] = await queryRows<{ adapter_id: string }>(
      pgTarget.dbUrl,
      'SELECT adapter_id FROM generation_result_adapters',
    );
    expect(link.adapter_id).toBe(alphaId);
    expect(await queryRows(pgTarget.dbUrl, "SELECT rating FROM delivery_jobs WHERE status = 'succeeded'")).toEqual([
      { rating: 5 },
    ]);

    const [recipe] = await queryRows<{ name: string; notes: string; loras: unknown; tags: unknown }>(
      pgTarget.dbUrl,
      'SELECT name, notes, loras, tags FROM recipes',
    );
    expect(recipe).toMatchObject({ name: 'Fox at night', notes: 'keep this one', tags: ['night'] });
    expect(recipe.loras).toEqual([expect.objectContaining({ adapterId: alphaId, name: 'alpha', weight: 0.8 })]);

    // The files are where the rows say: a resync adds nothing and keeps every edit.
    const resync = await importJson(pgEnv);
    expect(resync.counts.added).toBe(0);
    expect(normalise(await userRows(pgTarget.dbUrl))).toEqual(source);
  });

  it('should report a field edited on both sides as a conflict and follow the policy', async () => {
    const pgEnv = { ...pgTarget.env, LORA_ROOTS: target, ...LIMITS };
    await execute(pgTarget.dbUrl, "UPDATE adapters SET notes = 'edited here' WHERE id = ?", [alphaId]);
    const dry = await cliReport(pgEnv, archiveWithFiles, '--dry-run');
    expect(dry.adapters).toMatchObject({ added: 0, conflicts: 1, unchanged: 1 });
    expect(dry.conflicts).toEqual([expect.objectContaining({ fields: ['notes'] })]);
    expect(dry.files).toMatchObject({ copied: 0, existing: 4 });

    await cliReport(pgEnv, archiveWithFiles, '--policy', 'keep-mine');
    const notes = async () =>
      (await queryRows<{ notes: string }>(pgTarget.dbUrl, 'SELECT notes FROM adapters WHERE id = ?', [alphaId]))[0]
        .notes;
    expect(await notes()).toBe('edited here');
    await cliReport(pgEnv, archiveWithFiles, '--policy', 'skip');
    expect(await notes()).toBe('edited here');
    await cliReport(pgEnv, archiveWithFiles, '--policy', 'take-theirs');
    expect(await notes()).toBe(ALPHA_EDIT.notes);

    const refused = await runCli(['import-archive', join(dir.path, 'hostile', 'hostile-0.zip')], pgEnv);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/Archive entry ".*\.\.\/evil\.txt" leaves the archive/);
  });

  it('should back up while an import runs, list, download and delete backups', async () => {
    const [backup, imported] = await Promise.all([
      http.call('POST', '/backups'),
      http.upload(archiveWithFiles, 'policy=keep-mine'),
    ]);
    expect(imported.status).toBe(200);
    expect(backup.status).toBe(201);
    expect(backup.body).toMatchObject({ kind: 'sqlite', name: expect.stringMatching(/^lora-manager-.+\.sqlite$/) });
    const list = await http.call('GET', '/backups');
    expect(list.body.items).toEqual([expect.objectContaining({ name: backup.body.name, size: backup.body.size })]);
    const download = await http.call('GET', `/backups/${backup.body.name}`);
    expect(download.bytes.subarray(0, 15).toString()).toBe('SQLite format 3');
    const saved = join(dir.path, 'backup.sqlite');
    writeFileSync(saved, download.bytes);

    // An edit after the backup, undone by restoring it with the API stopped.
    expect((await http.call('PATCH', `/adapters/${alphaId}`, { notes: 'after the backup' }, EDITOR)).status).toBe(200);
    await app.stop();
    const corrupt = join(dir.path, 'corrupt.sqlite');
    writeFileSync(corrupt, Buffer.concat([download.bytes.subarray(0, 4096), Buffer.alloc(8192, 7)]));
    const refused = await runCli(['restore-backup', corrupt], env);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/Restore refused: .*(integrity|not a sound|cannot be opened|malformed)/);
    const restored = await runCli(['restore-backup', saved], env);
    expect({ code: restored.code, output: restored.output }).toMatchObject({ code: 0 });
    expect(restored.output).toMatch(/kept as .*before-restore-/);
    await startApi();
    const alpha = await http.call('GET', `/adapters/${alphaId}`);
    expect(alpha.body.notes).toBe(ALPHA_EDIT.notes);

    expect((await http.call('DELETE', `/backups/${backup.body.name}`)).status).toBe(204);
    expect((await http.call('GET', '/backups')).body.items).toEqual([]);
    expect((await http.call('GET', `/backups/${backup.body.name}`)).status).toBe(404);
    expect((await http.call('GET', '/backups/..%2Fevil')).status).toBe(400);
  });
});

async function zipEntryText(path: string, name: string): Promise<string> {
  const { default: yauzl } = await import('yauzl');
  const zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false });
  try {
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName !== name) continue;
      const chunks: Buffer[] = [];
      for await (const part of await zip.openReadStreamPromise(entry)) chunks.push(part as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    }
  } finally {
    zip.close();
  }
  throw new Error(`${name} not in ${path}`);
}

describe('archive: PostgreSQL scale-out (API, worker, Redis)', () => {
  const dir = tempDir('archive-pg');
  const root = join(dir.path, 'library');
  const redis = createRedisPrefix('archive');
  let db: { env: Record<string, string>; dbUrl: string; drop: () => Promise<void> };
  let env: Record<string, string>;
  const apps: AppProcess[] = [];
  let http: ReturnType<typeof api>;
  let alphaId = '';

  beforeAll(async () => {
    await writeLibrary(root);
    db = await cliDatabase('postgres', 'archive_scale', join(dir.path, 'data'));
    env = { ...db.env, LORA_ROOTS: root, API_KEYS: KEYS, REDIS_URL, REDIS_PREFIX: redis.prefix, ...LIMITS };
    await importJson(env, '--hash', 'full');
    const workerPort = await freePort();
    const port = await freePort();
    apps.push(new AppProcess('worker', { ...env, WORKER_PORT: String(workerPort) }, workerPort).start());
    apps.push(new AppProcess('api', { ...env, PORT: String(port) }, port).start());
    await Promise.all(apps.map((a) => a.waitReady()));
    http = api(apps[1].baseUrl);
    [{ id: alphaId }] = await queryRows<{ id: string }>(
      db.dbUrl,
      "SELECT id FROM adapters WHERE file_name = 'alpha.safetensors'",
    );
    expect((await http.call('PATCH', `/adapters/${alphaId}`, ALPHA_EDIT, EDITOR)).status).toBe(200);
    await seedResultAndDelivery(db.dbUrl, join(dir.path, 'data', 'storage'), alphaId);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await redis.clear();
    await db?.drop();
    dir.remove();
  });

  it('should export, dry-run and re-import over HTTP, and refuse hostile archives', async () => {
    const exported = await http.call('POST', '/archive/export', { withFiles: true });
    expect(exported.status).toBe(200);
    const file = join(dir.path, 'pg.zip');
    writeFileSync(file, exported.bytes);
    const { manifest } = await zipEntries(file);
    expect(manifest).toMatchObject({
      sourceDatabase: 'postgres',
      counts: { adapters: 2, results: 1, deliveries: 1, files: 4 },
    });

    const dry = await http.upload(file, 'dryRun=true');
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({
      dryRun: true,
      adapters: { added: 0, unchanged: 2, conflicts: 0 },
      results: { existing: 1 },
      files: { existing: 4, copied: 0 },
    });
    expect((await http.upload(file, 'policy=nonsense')).status).toBe(400);

    const hostile = writeHostileArchives(join(dir.path, 'hostile'), exported.bytes);
    await expectHostileRefused(
      hostile,
      async (f) => {
        const { status, body } = await http.upload(f, '');
        expect(status).toBe(400);
        return body as unknown as { code: string; message: string };
      },
      async () => ({ rows: await userRows(db.dbUrl), files: filesUnder(root) }),
    );
  });

  it('should make PostgreSQL backups as archives, and schedule one per period across API instances', async () => {
    const made = await http.call('POST', '/backups');
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ kind: 'archive', name: expect.stringMatching(/\.zip$/) });
    const download = await http.call('GET', `/backups/${made.body.name}`);
    const saved = join(dir.path, 'backup.zip');
    writeFileSync(saved, download.bytes);
    expect((await zipEntries(saved)).manifest.counts).toMatchObject({ adapters: 2, files: 0 });
    expect((await http.call('DELETE', `/backups/${made.body.name}`)).status).toBe(204);

    // Two more API instances sharing the database and the storage, each with the schedule: one backup a period.
    const scheduled = { ...env, BACKUP_EVERY_HOURS: String(3 / 3600), BACKUP_KEEP: '2' };
    const extra = await Promise.all(
      [0, 1].map(async () => {
        const port = await freePort();
        return new AppProcess('api', { ...scheduled, PORT: String(port) }, port).start();
      }),
    );
    apps.push(...extra);
    await Promise.all(extra.map((a) => a.waitReady()));
    await new Promise((r) => setTimeout(r, 8_000));
    const made2 = extra.reduce((n, a) => n + (a.text.match(/Scheduled backup lora-manager-/g) ?? []).length, 0);
    expect(made2).toBeGreaterThanOrEqual(2);
    expect(made2).toBeLessThanOrEqual(4);
    const items = (await http.call('GET', '/backups')).body.items as { name: string }[];
    expect(items).toHaveLength(2);
    expect(items.every((b) => b.name.endsWith('-scheduled.zip'))).toBe(true);
  }, 60_000);
});
