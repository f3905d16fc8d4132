import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { makeTempDir, removeTempDir, tinyPngDataUrl, writeAdapter } from '../../../../test/support/corpus-builder.js';
import { inspectAdapterFile } from '../reading/inspect-adapter.js';
import type { AdapterFacts } from '../reading/merge.js';
import { AdapterUserField } from '../library/adapter-fields.js';
import type { AdapterSnapshot } from '../library/adapter.repository.js';
import { buildAdapterRow } from './adapter-row.js';

let tmp: string;
const root = () => ({ id: 'root-1', path: tmp, realPath: tmp });
const file = { relPath: 'a/style.safetensors', name: 'style.safetensors', size: 100, mtimeMs: 1 };
const now = new Date('2026-11-29T00:00:00Z');

async function factsWith(a1111Notes: string): Promise<AdapterFacts> {
  await writeAdapter(tmp, {
    relPath: file.relPath,
    safetensors: { seed: 'notes' },
    a1111: { notes: a1111Notes, negativeText: 'blurry' },
  });
  return (await inspectAdapterFile({ absPath: join(tmp, file.relPath) }, { hash: false })).facts;
}

beforeAll(async () => {
  tmp = await makeTempDir('adapter-row-');
});
afterAll(async () => {
  await removeTempDir(tmp);
});

describe(buildAdapterRow.name, () => {
  it('should take notes from a sidecar until the user writes their own, and keep the negative text', async () => {
    const first = buildAdapterRow(await factsWith('from civitai helper'), file, root(), [], undefined, now);
    expect(first.notes).toBe('from civitai helper');
    expect(first.unmapped).toMatchObject({ 'a1111-json': { 'negative text': 'blurry' } });

    const snapshot = (row: typeof first, edited: AdapterUserField[]): AdapterSnapshot => ({
      ...row,
      userEdited: edited,
    });
    // Not edited: a resync follows the sidecar.
    const resynced = buildAdapterRow(await factsWith('updated in A1111'), file, root(), [], snapshot(first, []), now);
    expect(resynced).toMatchObject({ id: first.id, notes: 'updated in A1111' });
    // Edited through the API: the user's notes stay.
    const mine = { ...snapshot(first, [AdapterUserField.Notes]), notes: 'my own notes' };
    expect(buildAdapterRow(await factsWith('changed again'), file, root(), [], mine, now).notes).toBe('my own notes');
  });

  it('should keep the version’s notes, the Civitai facts without a column, and an embedded preview’s key', async () => {
    const relPath = 'b/thumb.safetensors';
    await writeAdapter(tmp, {
      relPath,
      safetensors: { seed: 'thumb', metadata: { 'modelspec.thumbnail': tinyPngDataUrl() } },
      civitaiInfo: {
        id: 5,
        modelId: 6,
        description: '<p>Use at 0.7.</p>',
        model: { name: 'Thumb', description: '<p>A style.</p>' },
        air: 'urn:air:sdxl:lora:civitai:6@5',
        stats: { downloadCount: 10, thumbsUpCount: 4, thumbsDownCount: 1, favoriteCount: 3, commentCount: 2 },
      },
    });
    const facts = (await inspectAdapterFile({ absPath: join(tmp, relPath) }, { hash: false })).facts;
    const row = buildAdapterRow(facts, { ...file, relPath, name: 'thumb.safetensors' }, root(), [], undefined, now);
    expect(row).toMatchObject({
      description: '<p>A style.</p>',
      versionDescription: '<p>Use at 0.7.</p>',
      previewPath: null,
      previewEmbedded: 'modelspec.thumbnail',
      hasPreview: true,
      downloads: 10,
      likes: 4,
      civitaiDetails: { air: 'urn:air:sdxl:lora:civitai:6@5', dislikes: 1, favorites: 3, comments: 2 },
    });
    // LoRA-Manager's "deleted from Civitai" flag.
    await writeAdapter(tmp, {
      relPath: 'c/gone.safetensors',
      safetensors: { seed: 'gone' },
      loraManager: { modelName: 'Gone', extra: { civitai_deleted: true } },
    });
    const gone = (await inspectAdapterFile({ absPath: join(tmp, 'c/gone.safetensors') }, { hash: false })).facts;
    expect(
      buildAdapterRow(gone, { ...file, relPath: 'c/gone.safetensors' }, root(), [], undefined, now).civitaiDetails,
    ).toEqual({ deleted: true });
    // Nothing of the kind: no details at all.
    expect(buildAdapterRow(await factsWith('n'), file, root(), [], undefined, now).civitaiDetails).toBeNull();
  });
});
