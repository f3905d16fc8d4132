import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppProcess, freePort } from './support/app-process.js';
import { cliDatabase, importJson } from './support/cli-library.js';
import { tinyPngDataUrl, writeAdapter } from './support/corpus-builder.js';
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

  describe(`a preview embedded in the LoRA on ${dialect}`, () => {
    const dir = tempDir(`embedded-preview-${dialect}`);
    const root = join(dir.path, 'loras');
    let api: AppProcess;
    let drop: (() => Promise<void>) | undefined;

    const adapterByPath = async (relativePath: string) => {
      const res = await fetch(`${api.baseUrl}/api/v1/adapters?limit=200`);
      const items = ((await res.json()) as { items: { id: string; relativePath: string }[] }).items;
      return items.find((a) => a.relativePath === relativePath)!;
    };
    const preview = async (id: string) => {
      const res = await fetch(`${api.baseUrl}/api/v1/adapters/${id}/preview`);
      return { status: res.status, type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
    };

    beforeAll(async () => {
      await writeAdapter(root, {
        relPath: 'thumb/inside.safetensors',
        safetensors: { seed: 'inside', metadata: { 'modelspec.thumbnail': tinyPngDataUrl() } },
      });
      await writeAdapter(root, { relPath: 'thumb/none.safetensors', safetensors: { seed: 'none' } });
      // Script dressed as a thumbnail: never a preview.
      const html = Buffer.from('<script>alert(1)</script>').toString('base64');
      await writeAdapter(root, {
        relPath: 'thumb/evil.safetensors',
        safetensors: { seed: 'evil', metadata: { 'modelspec.thumbnail': `data:text/html;base64,${html}` } },
      });
      const db = await cliDatabase(dialect, 'embedded', join(dir.path, 'data'));
      drop = db.drop;
      expect((await importJson({ ...db.env, LORA_ROOTS: root })).counts).toMatchObject({ added: 3 });
      const port = await freePort();
      api = new AppProcess('api', { ...db.env, LORA_ROOTS: root, PORT: String(port) }, port).start();
      await api.waitReady();
    }, 90_000);

    afterAll(async () => {
      await api?.stop();
      await drop?.();
      dir.remove();
    });

    it('should serve the header’s image when no preview file exists, and count it for hasPreview', async () => {
      const inside = await adapterByPath('thumb/inside.safetensors');
      const embedded = Buffer.from(tinyPngDataUrl().split(',')[1], 'base64');
      expect(await preview(inside.id)).toEqual({ status: 200, type: 'image/png', bytes: embedded });
      const detail = (await (await fetch(`${api.baseUrl}/api/v1/adapters/${inside.id}`)).json()) as Record<
        string,
        unknown
      >;
      expect(detail).toMatchObject({ hasPreview: true, previewPath: null, previewEmbedded: 'modelspec.thumbnail' });
      const res = await fetch(`${api.baseUrl}/api/v1/adapters/${inside.id}/preview`);
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
      expect((await preview((await adapterByPath('thumb/evil.safetensors')).id)).status).toBe(404);
      const withPreview = (await (await fetch(`${api.baseUrl}/api/v1/adapters?hasPreview=true`)).json()) as {
        items: { relativePath: string }[];
      };
      expect(withPreview.items.map((a) => a.relativePath)).toEqual(['thumb/inside.safetensors']);
      expect((await preview((await adapterByPath('thumb/none.safetensors')).id)).status).toBe(404);
    });

    it('should prefer a preview file once one is added', async () => {
      await writeFile(join(root, 'thumb', 'inside.webp'), tinyWebp());
      const res = await fetch(`${api.baseUrl}/api/v1/adapters`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ path: 'thumb/inside.safetensors' }),
      });
      expect(res.ok).toBe(true);
      expect(await preview((await adapterByPath('thumb/inside.safetensors')).id)).toEqual({
        status: 200,
        type: 'image/webp',
        bytes: tinyWebp(),
      });
    });
  });
}
