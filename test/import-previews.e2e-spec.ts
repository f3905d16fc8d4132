import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliDatabase, importJson } from './support/cli-library.js';
import { writeAdapter } from './support/corpus-builder.js';
import { queryRows } from './support/db-inspect.js';
import { tinyPng, tinyWebp } from './support/images.js';
import { tempDir } from './support/test-services.js';

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`previews in a resync on ${dialect}`, () => {
    const dir = tempDir(`import-previews-${dialect}`);
    const root = join(dir.path, 'loras');
    const folder = join(root, 'styles');
    let env: Record<string, string>;
    let dbUrl: string;
    let dropDb: (() => Promise<void>) | undefined;

    const importCli = () => importJson(env);
    /** What the index says of the preview of `styles/ink.safetensors` (the other file has none throughout). */
    const preview = async () => {
      const rows = await queryRows<{ relative_path: string; has_preview: unknown; preview_path: string | null }>(
        dbUrl,
        'SELECT relative_path, has_preview, preview_path FROM adapters ORDER BY relative_path',
      );
      expect(rows.find((r) => r.relative_path === 'styles/plain.safetensors')).toMatchObject({ preview_path: null });
      const row = rows.find((r) => r.relative_path === 'styles/ink.safetensors')!;
      return { hasPreview: Boolean(row.has_preview), path: row.preview_path };
    };

    beforeAll(async () => {
      await writeAdapter(root, { relPath: 'styles/ink.safetensors', safetensors: { seed: 'ink' } });
      await writeAdapter(root, { relPath: 'styles/plain.safetensors', safetensors: { seed: 'plain' } });
      const db = await cliDatabase(dialect, 'previews', join(dir.path, 'data'));
      ({ dbUrl, drop: dropDb } = db);
      env = { ...db.env, LORA_ROOTS: root };
      expect((await importCli()).counts).toMatchObject({ added: 2 });
      expect(await preview()).toEqual({ hasPreview: false, path: null });
    });

    afterAll(async () => {
      await dropDb?.();
      dir.remove();
    });

    it('should pick up a preview added after the import, without touching the LoRA file', async () => {
      await writeFile(join(folder, 'ink.preview.png'), tinyPng());
      expect((await importCli()).counts).toMatchObject({ seen: 2, updated: 1, unchanged: 1 });
      expect(await preview()).toEqual({ hasPreview: true, path: 'styles/ink.preview.png' });
      expect((await importCli()).counts).toMatchObject({ unchanged: 2, updated: 0 });
    });

    it('should switch to a better-named preview and follow a renamed one', async () => {
      // `<stem>.<ext>` ranks above `<stem>.preview.<ext>` (LORA-FORMATS §6.2).
      await writeFile(join(folder, 'ink.webp'), tinyWebp());
      expect((await importCli()).counts).toMatchObject({ updated: 1 });
      expect(await preview()).toEqual({ hasPreview: true, path: 'styles/ink.webp' });
      await rm(join(folder, 'ink.webp'));
      await rename(join(folder, 'ink.preview.png'), join(folder, 'ink.png'));
      expect((await importCli()).counts).toMatchObject({ updated: 1 });
      expect(await preview()).toEqual({ hasPreview: true, path: 'styles/ink.png' });
    });

    it('should drop a deleted preview, so the hasPreview filter and the preview route stop offering it', async () => {
      await rm(join(folder, 'ink.png'));
      expect((await importCli()).counts).toMatchObject({ updated: 1, unchanged: 1 });
      expect(await preview()).toEqual({ hasPreview: false, path: null });
    });
  });
}
