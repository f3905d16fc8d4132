// The library, edits, results and deliveries the archive tests export and import, and the hostile archives.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import yauzl from 'yauzl';
import { seededBytes, writeSafetensors } from './corpus-builder.js';
import { execute } from './db-inspect.js';
import { tinyPng } from './images.js';
import { rawZip } from './raw-zip.js';

/** Two LoRAs (one with a preview, one in a folder), as an import finds them. */
export async function writeLibrary(root: string): Promise<void> {
  mkdirSync(join(root, 'styles'), { recursive: true });
  await writeSafetensors(join(root, 'alpha.safetensors'), { metadata: { ss_output_name: 'alpha' }, seed: 'alpha' });
  writeFileSync(join(root, 'alpha.preview.png'), tinyPng());
  await writeSafetensors(join(root, 'styles', 'beta.safetensors'), {
    metadata: { ss_output_name: 'beta' },
    seed: 'beta',
  });
}

/** Every kind of user edit, as the archive must carry it. */
export const ALPHA_EDIT = {
  name: 'Alpha (mine)',
  notes: 'keep this LoRA',
  favorite: true,
  active: true,
  ordinal: 3,
  triggerWords: ['alpha style', 'glow'],
  preferredWeight: 0.7,
  weightMin: 0.2,
  weightMax: 1.1,
  tags: ['portrait', 'warm'],
  nsfwOverride: 1,
  baseModel: 'SDXL 1.0',
};

export const USER_COLUMNS =
  'name, notes, favorite, active, ordinal, trigger_words, preferred_weight, weight_min, weight_max, tags, nsfw_override, base_model, user_edited, relative_path';

/** A result of `adapterId` with its image in storage, and a delivery: rows written as the product writes them. */
export async function seedResultAndDelivery(
  databaseUrl: string,
  storageDir: string,
  adapterId: string,
): Promise<{ resultId: string; deliveryId: string; recipeId: string; storageKey: string }> {
  const resultId = randomUUID();
  const deliveryId = randomUUID();
  const recipeId = randomUUID();
  const storageKey = `results/2026/12/${resultId}.png`;
  mkdirSync(join(storageDir, 'results', '2026', '12'), { recursive: true });
  const image = tinyPng('a fox');
  writeFileSync(join(storageDir, storageKey), image);
  const now = new Date().toISOString();
  const pg = databaseUrl.startsWith('postgres');
  const bool = (b: boolean) => (pg ? b : b ? 1 : 0);
  await execute(
    databaseUrl,
    `INSERT INTO generation_results (id, job_id, image_index, storage_key, format, content_type, width, height, bytes, seed,
      request, prompt, negative_prompt, loras, model, backend_id, started_at, finished_at, duration_ms, rating, favorite,
      tags, notes, created_at, updated_at) VALUES (?, ?, 0, ?, 'png', 'image/png', 1, 1, ?, 42, ?, 'a fox', NULL, ?, NULL,
      'sdnext-0', ?, ?, 1200, 4, ?, ?, 'best one', ?, ?)`,
    [
      resultId,
      randomUUID(),
      storageKey,
      image.length,
      JSON.stringify({ prompt: 'a fox' }),
      JSON.stringify([{ adapterId, name: 'alpha', weight: 0.7, sha256: null, autov2: null }]),
      now,
      now,
      bool(true),
      JSON.stringify(['keeper']),
      now,
      now,
    ],
  );
  await execute(
    databaseUrl,
    'INSERT INTO generation_result_adapters (result_id, adapter_id, base_model) VALUES (?, ?, ?)',
    [resultId, adapterId, 'SDXL 1.0'],
  );
  await execute(
    databaseUrl,
    `INSERT INTO delivery_jobs (id, mode, prompt, params, status, attempts, rating, favorite, created_at, updated_at)
     VALUES (?, 'http', 'a fox', ?, 'succeeded', 1, 5, ?, ?, ?)`,
    [deliveryId, JSON.stringify({ url: 'http://127.0.0.1:9/hook' }), bool(true), now, now],
  );
  await execute(
    databaseUrl,
    `INSERT INTO recipes (id, name, notes, tags, loras, prompt, parameters, source, source_result_id, created_at, updated_at)
     VALUES (?, 'Fox at night', 'keep this one', ?, ?, 'a fox at night', ?, 'result', ?, ?, ?)`,
    [
      recipeId,
      JSON.stringify(['night']),
      JSON.stringify([{ adapterId, name: 'alpha', weight: 0.8, sha256: null, autov2: null, hash: null }]),
      JSON.stringify({ steps: 20, cfg_scale: 6 }),
      resultId,
      now,
      now,
    ],
  );
  return { resultId, deliveryId, recipeId, storageKey };
}

export interface ZipEntryFacts {
  name: string;
  size: number;
}

export async function zipEntries(
  path: string,
): Promise<{ entries: ZipEntryFacts[]; manifest: Record<string, unknown> }> {
  const zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false });
  const entries: ZipEntryFacts[] = [];
  let manifest: Record<string, unknown> = {};
  for await (const entry of zip.eachEntry()) {
    entries.push({ name: entry.fileName, size: entry.uncompressedSize });
    if (entry.fileName === 'manifest.json') {
      const chunks: Buffer[] = [];
      for await (const part of await zip.openReadStreamPromise(entry)) chunks.push(part as Buffer);
      manifest = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    }
  }
  zip.close();
  return { entries, manifest };
}

const manifest = (formatVersion = 1, roots: { id: string; path: string }[] = []) =>
  Buffer.from(
    JSON.stringify({
      format: 'lora-manager-archive',
      formatVersion,
      productVersion: '0.1.0',
      createdAt: new Date().toISOString(),
      sourceDatabase: 'sqlite',
      withFiles: true,
      roots,
      counts: {},
    }),
  );

export interface HostileArchive {
  label: string;
  file: string;
  code: string;
}

/**
 * One file per kind of bad archive, each with the error code the import must answer. The limits they trip are the
 * tests' own: ARCHIVE_MAX_ENTRIES=50, ARCHIVE_MAX_GB=0.04 (~43 MB), ARCHIVE_MAX_RATIO=100.
 */
export function writeHostileArchives(dir: string, validArchive: Buffer): HostileArchive[] {
  mkdirSync(dir, { recursive: true });
  const zeros = (mb: number) => Buffer.alloc(mb * 1024 * 1024);
  const sparse = (mb: number) => {
    const bytes = seededBytes(mb * 1024 * 1024, mb);
    for (let i = 0; i < bytes.length; i++) if (i % 32 !== 0) bytes[i] = 0;
    return bytes;
  };
  const cases: [string, string, Buffer][] = [
    [
      'path traversal (../)',
      'archive_unsafe_entry',
      rawZip([
        { name: 'manifest.json', data: manifest() },
        { name: 'files/x/../../../evil.txt', data: Buffer.from('x') },
      ]),
    ],
    [
      'absolute path',
      'archive_unsafe_entry',
      rawZip([
        { name: 'manifest.json', data: manifest() },
        { name: '/tmp/evil.txt', data: Buffer.from('x') },
      ]),
    ],
    [
      'backslashes',
      'archive_unsafe_entry',
      rawZip([
        { name: 'manifest.json', data: manifest() },
        { name: 'files\\..\\evil.txt', data: Buffer.from('x') },
      ]),
    ],
    [
      'duplicate entries',
      'archive_duplicate_entry',
      rawZip([
        { name: 'manifest.json', data: manifest() },
        { name: 'data/adapters.ndjson', data: Buffer.from('') },
        { name: 'data/adapters.ndjson', data: Buffer.from('') },
      ]),
    ],
    ['another format version', 'archive_version_unsupported', rawZip([{ name: 'manifest.json', data: manifest(2) }])],
    ['no manifest', 'archive_manifest_missing', rawZip([{ name: 'data/adapters.ndjson', data: Buffer.from('') }])],
    ['truncated', 'archive_unreadable', validArchive.subarray(0, Math.floor(validArchive.length / 2))],
    ['not a ZIP at all', 'archive_unreadable', Buffer.from('this is not a zip file, just text')],
    [
      'zip bomb (ratio)',
      'archive_ratio_exceeded',
      rawZip([
        { name: 'manifest.json', data: manifest() },
        { name: 'files/x/bomb.bin', data: zeros(20), deflate: true },
      ]),
    ],
    [
      'zip bomb (total size)',
      'archive_too_large',
      rawZip([
        { name: 'manifest.json', data: manifest() },
        // Compressible about 20 times: under the ratio cap, over the total size cap together.
        ...[0, 1, 2].map((i) => ({ name: `files/x/part${i}.bin`, data: sparse(16), deflate: true })),
      ]),
    ],
    [
      'too many entries',
      'archive_too_many_entries',
      rawZip([
        { name: 'manifest.json', data: manifest() },
        ...Array.from({ length: 60 }, (_, i) => ({ name: `files/x/${i}.txt`, data: Buffer.from('x') })),
      ]),
    ],
  ];
  return cases.map(([label, code, bytes], i) => {
    const file = join(dir, `hostile-${i}.zip`);
    writeFileSync(file, bytes);
    return { label, file, code };
  });
}

/**
 * An archive whose first adapter (with its file) is sound and whose second row is not: the import fails part way
 * and must leave neither the first adapter nor its file behind.
 */
export function writeHalfBadArchive(
  path: string,
  root: { id: string; path: string },
  template: Record<string, unknown>,
): void {
  const good = {
    ...template,
    id: randomUUID(),
    relativePath: 'late/new.safetensors',
    folder: 'late',
    fileName: 'new.safetensors',
    sha256: null,
    sha256Verified: false,
  };
  const bad = { ...template, id: randomUUID(), relativePath: '../outside.safetensors' };
  writeFileSync(
    path,
    rawZip([
      { name: 'data/adapters.ndjson', data: Buffer.from(`${JSON.stringify(good)}\n${JSON.stringify(bad)}\n`) },
      { name: `files/${root.id}/late/new.safetensors`, data: Buffer.from('not really a LoRA') },
      { name: 'manifest.json', data: manifest(1, [root]) },
    ]),
  );
}
