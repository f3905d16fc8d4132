// npm run bench:download — a Civitai download through the product (API → job → redirect → file host → verify → import)
// against the fake Civitai, next to a plain `fetch` → file of the same bytes from the same host in the same script;
// then a resume demonstration: the transfer cut at N bytes, and what was fetched after the resume.
import { createWriteStream, mkdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { AppProcess, freePort } from '../test/support/app-process.js';
import { buildSafetensors } from '../test/support/corpus-builder.js';
import { FakeCivitai } from '../test/support/fake-civitai.js';
import { tempDir } from '../test/support/test-services.js';
import { report, time } from './bench-util.js';

const MIB = Number(process.env.BENCH_DOWNLOAD_MIB ?? 256);
const dir = tempDir('download');
const root = join(dir.path, 'loras');
mkdirSync(root, { recursive: true });

interface Download {
  id: string;
  status: string;
  bytesDone: number;
  bytesFetched: number;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

const file = buildSafetensors({ seed: 'bench', tensors: [{ name: 'w', dtype: 'F32', shape: [MIB * 256 * 1024] }] });
const fake = await new FakeCivitai().start();
const versions = [1, 2, 3].map((n) => ({
  id: 9000 + n,
  files: [{ name: `bench_${n}.safetensors`, primary: true, sha256: file.sha256, sizeKB: file.size / 1024 }],
}));
fake.addModel({
  id: 900,
  name: 'Bench',
  versions,
  files: Object.fromEntries(versions.map((v) => [v.id, { name: v.files[0].name, bytes: file.bytes }])),
});
const port = await freePort();
const api = new AppProcess(
  'api',
  {
    DATA_DIR: join(dir.path, 'data'),
    LORA_ROOTS: root,
    LOG_LEVEL: 'warn',
    PORT: String(port),
    CIVITAI_URL: fake.url,
    CIVITAI_DOWNLOAD_MIN_FREE_MB: '1',
    HASH_AFTER_IMPORT: 'false',
  },
  port,
).start();

const download = async (reference: string): Promise<Download> => {
  const res = await fetch(`${api.baseUrl}/api/v1/civitai/downloads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ reference, folder: 'bench' }),
  });
  let d = (await res.json()) as Download;
  if (res.status !== 202) throw new Error(`start: ${res.status} ${JSON.stringify(d)}`);
  while (d.status === 'queued' || d.status === 'running') {
    await new Promise((r) => setTimeout(r, 20));
    d = (await (await fetch(`${api.baseUrl}/api/v1/civitai/downloads/${d.id}`)).json()) as Download;
  }
  if (d.status !== 'completed') throw new Error(`download ended ${d.status}: ${d.error}`);
  return d;
};

try {
  await api.waitReady();
  const plain = await time(async () => {
    const res = await fetch(`${fake.url}/files/9001/plain.safetensors`);
    await pipeline(
      Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
      createWriteStream(join(dir.path, 'plain.safetensors')),
    );
  });
  const product = await time(() => download('9001'));
  const mibs = (ms: number) => `${(MIB / (ms / 1000)).toFixed(0)} MiB/s`;

  const cutAt = Math.floor(file.size / 3);
  fake.fileFault = { kind: 'cut', afterBytes: cutAt, times: 1 };
  const resumed = await download('https://civitai.com/api/download/models/9002');
  const resume = fake.requests.filter((r) => r.endpoint === 'file' && r.path.includes('/9002/')).at(-1)!;
  const resumedFrom = Number(/^bytes=(\d+)-$/.exec(resume.range ?? '')?.[1] ?? 0);

  report(`Civitai download of one ${MIB} MiB file (fake Civitai on loopback, SQLite, one API process)`, [
    {
      metric: 'download through the product (start → verified, sidecars, imported)',
      measured: `${mibs(product.ms)} (${(product.ms / 1000).toFixed(2)} s)`,
      baseline: `plain fetch → file ${mibs(plain.ms)} (${(plain.ms / 1000).toFixed(2)} s)`,
      target: '≥ 50 % of plain fetch (it also hashes and imports)',
    },
    {
      metric: `resume after a cut at byte ${cutAt}`,
      measured: `resumed with Range bytes=${resumedFrom}-; fetched ${resumed.bytesFetched} bytes for a ${file.size}-byte file`,
      baseline: `without resume: ${cutAt + file.size} bytes`,
      target: `after resume < ${file.size}`,
    },
  ]);
  process.stdout.write(
    `\nResume: cut at ${cutAt} of ${file.size} bytes; fetched after the resume ${file.size - resumedFrom} bytes ` +
      `(${(((file.size - resumedFrom) / file.size) * 100).toFixed(1)} % of the file); total over the network ${resumed.bytesFetched}.\n`,
  );
} finally {
  await api.stop();
  await fake.stop();
  dir.remove();
}
