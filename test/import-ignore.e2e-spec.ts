import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { cliDatabase, importJson } from './support/cli-library.js';
import { writeAdapter } from './support/corpus-builder.js';
import { queryRows } from './support/db-inspect.js';
import { tempDir } from './support/test-services.js';

const FILES = ['a/keep.safetensors', 'a/old/skipped.safetensors', 'b/x.safetensors', '.trash/deleted.safetensors'];

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`ignore globs on ${dialect}`, () => {
    const dir = tempDir(`import-ignore-${dialect}`);
    const root = join(dir.path, 'loras');
    let env: Record<string, string>;
    let dbUrl: string;
    let dropDb: (() => Promise<void>) | undefined;

    const importCli = (...args: string[]) => importJson(env, ...args);
    /** Indexed paths, each with whether it is present. */
    const indexed = async () =>
      Object.fromEntries(
        (
          await queryRows<{ relative_path: string; missing_since: unknown }>(
            dbUrl,
            'SELECT relative_path, missing_since FROM adapters',
          )
        ).map((r) => [r.relative_path, r.missing_since === null ? 'present' : 'missing']),
      );

    beforeAll(async () => {
      for (const [i, relPath] of FILES.entries())
        await writeAdapter(root, { relPath, safetensors: { seed: `ignore-${i}` } });
      const db = await cliDatabase(dialect, 'ignore', join(dir.path, 'data'));
      ({ dbUrl, drop: dropDb } = db);
      // The default: everything under an `old` folder, anywhere, and hidden trash folders.
      env = { ...db.env, LORA_ROOTS: root, LORA_IGNORE: '**/old/**,**/.trash/**' };
    });

    afterAll(async () => {
      await dropDb?.();
      dir.remove();
    });

    it('should skip what LORA_IGNORE names, hidden folders included', async () => {
      expect((await importCli()).counts).toMatchObject({ seen: 2, added: 2 });
      expect(await indexed()).toEqual({ 'a/keep.safetensors': 'present', 'b/x.safetensors': 'present' });
    });

    it('should tombstone a file that a run-level --ignore skips, and restore it when no glob does', async () => {
      expect((await importCli('--ignore', 'b/**')).counts).toMatchObject({ seen: 1, unchanged: 1, missing: 1 });
      expect(await indexed()).toEqual({ 'a/keep.safetensors': 'present', 'b/x.safetensors': 'missing' });
      expect((await importCli()).counts).toMatchObject({ seen: 2, unchanged: 1, restored: 1 });
      expect(await indexed()).toEqual({ 'a/keep.safetensors': 'present', 'b/x.safetensors': 'present' });
    });

    it('should match globs from the root when it imports a folder inside it', async () => {
      // Relative to the folder `a`, `keep.safetensors` would name the file; relative to the root it names nothing.
      expect((await importCli(join(root, 'a'), '--ignore', 'keep.safetensors')).counts).toMatchObject({
        seen: 1,
        unchanged: 1,
        missing: 0,
      });
      expect((await importCli(join(root, 'a'), '--ignore', 'a/keep.safetensors')).counts).toMatchObject({
        seen: 0,
        missing: 1,
      });
      expect(await indexed()).toEqual({ 'a/keep.safetensors': 'missing', 'b/x.safetensors': 'present' });
    });

    it('should refuse an absolute glob or one with `..`, naming it, and write nothing', async () => {
      const before = await indexed();
      const bad = await runCli(['import', '--ignore', 'b/**', '--ignore', '/etc/**'], env);
      expect(bad.code).not.toBe(0);
      expect(bad.output).toMatch(/ignore\[1\]: must be relative to the library root/);
      const slow = await runCli(['import', '--ignore', '*a*a*a*a*a*b'], env);
      expect(slow.code).not.toBe(0);
      expect(slow.output).toMatch(/ignore\[0\]: must have at most 2 wildcards \(\*\) in one path segment/);
      const badEnv = await runCli(['import'], { ...env, LORA_IGNORE: 'old/**,../elsewhere/**' });
      expect(badEnv.code).not.toBe(0);
      expect(badEnv.output).toContain('LORA_IGNORE');
      expect(badEnv.output).toContain('../elsewhere/**');
      expect(await indexed()).toEqual(before);
    });
  });
}

describe('ignore globs of an import run started through the API', () => {
  const dir = tempDir('import-ignore-api');
  const root = join(dir.path, 'loras');
  let api: AppProcess;

  const start = (body: unknown) =>
    fetch(`${api.baseUrl}/api/v1/imports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    for (const [i, relPath] of FILES.entries())
      await writeAdapter(root, { relPath, safetensors: { seed: `api-ignore-${i}` } });
    const port = await freePort();
    api = new AppProcess(
      'api',
      { DATA_DIR: join(dir.path, 'data'), LORA_ROOTS: root, LORA_IGNORE: '**/.trash/**', PORT: String(port) },
      port,
    ).start();
    await api.waitReady();
  });

  afterAll(async () => {
    await api.stop();
    dir.remove();
  });

  it('should skip the run’s globs on top of LORA_IGNORE and record them on the run', async () => {
    const res = await start({ ignore: ['**/old/**', 'b/*.safetensors'] });
    expect(res.status).toBe(201);
    const { id, ignore } = (await res.json()) as { id: string; ignore: string[] };
    expect(ignore).toEqual(['**/old/**', 'b/*.safetensors']);
    let run: { status: string; counts: Record<string, number> } = { status: 'queued', counts: {} };
    for (let i = 0; i < 200 && (run.status === 'queued' || run.status === 'running'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      run = (await (await fetch(`${api.baseUrl}/api/v1/imports/${id}`)).json()) as typeof run;
    }
    expect(run).toMatchObject({ status: 'completed', counts: { seen: 1, added: 1 } });
    const list = (await (await fetch(`${api.baseUrl}/api/v1/adapters`)).json()) as {
      items: { relativePath: string }[];
    };
    expect(list.items.map((a) => a.relativePath)).toEqual(['a/keep.safetensors']);
  });

  it('should answer 400 naming the glob at fault', async () => {
    for (const [ignore, field] of [
      [['ok/**', '/etc/**'], 'ignore[1]'],
      [['../../**'], 'ignore[0]'],
      [['ok/**', '*a*a*a*a*a*b'], 'ignore[1]'],
      [['*(a*)b'], 'ignore[0]'],
      [[''], 'ignore'],
      ['old/**', 'ignore'],
    ] as const) {
      const res = await start({ ignore });
      expect(res.status).toBe(400);
      expect(new Set(((await res.json()) as { details: { field: string }[] }).details.map((d) => d.field))).toEqual(
        new Set([field]),
      );
    }
  });
});
