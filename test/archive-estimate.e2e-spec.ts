import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { AppProcess, freePort } from './support/app-process.js';
import { cliDatabase, importJson } from './support/cli-library.js';
import { generateCorpus, writeAdapter } from './support/corpus-builder.js';
import { createRedisPrefix, REDIS_URL, tempDir } from './support/test-services.js';

// The backups page's estimate of an export with files: every file of the library's present adapters (LoRA files,
// sidecars of every kind, previews) counted once, to the byte, on both databases.

/** Every file under `dir`: how many and their bytes. */
function filesOnDisk(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    files++;
    bytes += statSync(join(entry.parentPath, entry.name)).size;
  }
  return { files, bytes };
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`archive estimate on ${dialect}`, () => {
    const dir = tempDir(`estimate-${dialect}`);
    const root = join(dir.path, 'library');
    const redis = createRedisPrefix(`estimate${dialect}`);
    let env: Record<string, string>;
    let drop: (() => Promise<void>) | undefined;
    let api: AppProcess;

    const estimate = async (): Promise<{ adapters: number; files: number; fileBytes: number }> => {
      const res = await fetch(`${api.baseUrl}/api/v1/archive/estimate`);
      expect(res.status).toBe(200);
      return (await res.json()) as { adapters: number; files: number; fileBytes: number };
    };

    beforeAll(async () => {
      // Sidecars of every kind the corpus writes, previews beside some, a LoRA in the root folder itself.
      await generateCorpus(root, 24, { perDir: 6 });
      await writeAdapter(root, {
        relPath: 'ink.safetensors',
        safetensors: { seed: 'ink' },
        a1111: { activationText: 'inkword', sdVersion: 'SDXL' },
      });
      const db = await cliDatabase(dialect, `estimate_${dialect}`, join(dir.path, 'data'));
      drop = db.drop;
      env = {
        ...db.env,
        LORA_ROOTS: root,
        ...(dialect === 'postgres' ? { REDIS_URL, REDIS_PREFIX: redis.prefix } : {}),
      };
      await importJson(env);
      const port = await freePort();
      api = new AppProcess('api', { ...env, PORT: String(port) }, port).start();
      await api.waitReady();
    }, 120_000);

    afterAll(async () => {
      await api?.stop();
      await redis.clear();
      await drop?.();
      dir.remove();
    });

    it('should count every file of the library once, with its bytes', async () => {
      const disk = filesOnDisk(root);
      expect(disk.files).toBeGreaterThan(25 * 2); // sidecars and previews beside the 25 LoRA files
      expect(await estimate()).toMatchObject({ adapters: 25, files: disk.files, fileBytes: disk.bytes });
    });

    it('should leave out the files of an adapter whose LoRA is gone once a resync tombstones it', async () => {
      unlinkSync(join(root, 'ink.safetensors'));
      unlinkSync(join(root, 'ink.json'));
      await importJson(env);
      const disk = filesOnDisk(root);
      expect(await estimate()).toMatchObject({ files: disk.files, fileBytes: disk.bytes });
    });
  });
}
