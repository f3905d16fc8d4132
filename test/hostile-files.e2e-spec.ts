import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AppProcess, freePort } from './support/app-process.js';
import { importJson } from './support/cli-library.js';
import { tinyPng, writeAdapter, writePreview } from './support/corpus-builder.js';
import { linkToDevZero, makeFifo, releaseFifosLater } from './support/hostile-files.js';
import { tempDir } from './support/test-services.js';

interface AdapterBody {
  relativePath: string;
  warnings: string[];
}

describe('library files that are not regular files (FIFOs, links to /dev/zero)', () => {
  const dir = tempDir('hostile-files');
  const root = join(dir.path, 'loras');
  const fifos = [
    join(root, 'ok', 'style.civitai.info'),
    join(root, 'ok', 'style.metadata.json'),
    join(root, 'bad', 'pipe.safetensors'),
  ];
  let api: AppProcess;
  let release: ChildProcess | undefined;
  let filePreview: Buffer;

  const register = (path: string) =>
    fetch(`${api.baseUrl}/api/v1/adapters`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path }),
      signal: AbortSignal.timeout(15_000),
    });
  const ready = async () => (await fetch(`${api.baseUrl}/health/ready`, { signal: AbortSignal.timeout(5_000) })).status;

  beforeAll(async () => {
    await writeAdapter(root, {
      relPath: 'ok/style.safetensors',
      safetensors: { seed: 'style', metadata: { ss_output_name: 'style' } },
    });
    makeFifo(fifos[0]);
    makeFifo(fifos[1]);
    await linkToDevZero(join(root, 'ok', 'style.json'));
    await mkdir(join(root, 'bad'));
    makeFifo(fifos[2]);
    await linkToDevZero(join(root, 'bad', 'zero.safetensors'));
    // Previews: one embedded in the header (with a large header around it), one file, one FIFO, one /dev/zero link.
    const thumbnail = `data:image/png;base64,${tinyPng(3, 2, [1, 2, 3]).toString('base64')}`;
    const padding = 'x'.repeat(4 * 1024 * 1024);
    await writeAdapter(root, {
      relPath: 'pics/embedded.safetensors',
      safetensors: { seed: 'emb', metadata: { 'modelspec.thumbnail': thumbnail, ss_training_comment: padding } },
    });
    await writeAdapter(root, { relPath: 'pics/file.safetensors', safetensors: { seed: 'file' } });
    filePreview = await writePreview(join(root, 'pics', 'file.png'));
    await writeAdapter(root, { relPath: 'pics/pipe.safetensors', safetensors: { seed: 'pipe' } });
    makeFifo(join(root, 'pics', 'pipe.png'));
    await writeAdapter(root, { relPath: 'pics/zero.safetensors', safetensors: { seed: 'zero' } });
    await linkToDevZero(join(root, 'pics', 'zero.png'));
    const port = await freePort();
    api = new AppProcess(
      'api',
      { DATA_DIR: join(dir.path, 'data'), LORA_ROOTS: root, PORT: String(port) },
      port,
    ).start();
    await api.waitReady();
  }, 60_000);

  afterAll(async () => {
    release?.kill();
    await api?.stop();
    dir.remove();
  });

  it('should finish an API import of the folder, with the refusals as warnings on the adapter, and stay ready', async () => {
    const res = await fetch(`${api.baseUrl}/api/v1/imports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hash: 'full' }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    let run: { status: string; failures?: { path: string; reason: string }[] } = { status: 'queued' };
    const deadline = Date.now() + 20_000;
    while (!['completed', 'failed'].includes(run.status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      run = (await (await fetch(`${api.baseUrl}/api/v1/imports/${id}`)).json()) as typeof run;
    }
    expect(run.status).toBe('completed');
    // A refused sidecar is a warning on its adapter, not a failed file (the LoRA itself was read).
    expect((run.failures ?? []).filter((f) => f.reason.includes('not_a_file'))).toEqual([]);
    const list = (await (await fetch(`${api.baseUrl}/api/v1/adapters?limit=100`)).json()) as {
      items: { id: string; relativePath: string }[];
    };
    const style = list.items.find((a) => a.relativePath === 'ok/style.safetensors')!;
    const adapter = (await (await fetch(`${api.baseUrl}/api/v1/adapters/${style.id}`)).json()) as AdapterBody;
    expect(adapter.warnings.filter((w) => w.includes('not_a_file'))).toHaveLength(3);
    expect(await ready()).toBe(200);
  });

  it('should register a LoRA whose sidecars are FIFOs and a /dev/zero link, naming each refused sidecar', async () => {
    // Eight at once: more than the file-I/O thread pool, which blocked FIFO opens used to fill.
    const answers = await Promise.all(Array.from({ length: 8 }, () => register('ok/style.safetensors')));
    for (const res of answers)
      expect({ status: res.status, log: res.status === 201 ? '' : api.text }).toEqual({ status: 201, log: '' });
    const adapter = (await answers[0].json()) as AdapterBody;
    expect(adapter.relativePath).toBe('ok/style.safetensors');
    const refused = adapter.warnings.filter((w) => w.includes('not_a_file: Sidecar is not a regular file'));
    expect(refused).toHaveLength(3);
    expect(refused.join('\n')).toMatch(/\(FIFO\).*style\.civitai\.info/);
    expect(refused.join('\n')).toMatch(/\(character device\).*style\.json/);
    expect(await ready()).toBe(200);
  });

  it('should answer 400 quickly for a LoRA path that is a FIFO or a link to /dev/zero', async () => {
    for (const path of ['bad/pipe.safetensors', 'bad/zero.safetensors']) {
      const res = await register(path);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ details: [{ field: 'path' }] });
    }
    expect(await ready()).toBe(200);
  });

  it('should serve 24 concurrent preview requests each the right bytes, and 404 previews that are not files', async () => {
    const list = (await (await fetch(`${api.baseUrl}/api/v1/adapters?limit=100`)).json()) as {
      items: { id: string; relativePath: string }[];
    };
    const idOf = (path: string) => list.items.find((a) => a.relativePath === path)!.id;
    const preview = async (path: string) => {
      const res = await fetch(`${api.baseUrl}/api/v1/adapters/${idOf(path)}/preview`, {
        signal: AbortSignal.timeout(15_000),
      });
      return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
    };
    const paths = ['pics/embedded.safetensors', 'pics/file.safetensors'];
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => preview(paths[i % 2])));
    for (const [i, answer] of answers.entries()) {
      expect(answer).toEqual({ status: 200, bytes: i % 2 === 0 ? tinyPng(3, 2, [1, 2, 3]) : filePreview });
    }
    expect((await preview('pics/pipe.safetensors')).status).toBe(404);
    expect((await preview('pics/zero.safetensors')).status).toBe(404);
    expect(await ready()).toBe(200);
  });

  it('should finish a CLI import (synchronous reads) of the same folder', async () => {
    // A regression would block the CLI's only thread in open(): release the FIFOs later so it fails, not hangs.
    release = releaseFifosLater(fifos, 20_000);
    const summary = await importJson({ DATA_DIR: join(dir.path, 'cli-data'), LORA_ROOTS: root });
    expect(summary.counts).toMatchObject({ seen: 5, added: 5, failed: 0 });
    expect(summary.failures.filter((f) => f.reason.startsWith('not_a_file'))).toEqual([]);
  }, 60_000);
});
