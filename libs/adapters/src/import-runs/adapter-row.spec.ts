import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { makeTempDir, removeTempDir, tinyPngDataUrl, writeAdapter } from '../../../../test/support/corpus-builder.js';
import { inspectAdapterFile } from '../reading/inspect-adapter.js';
import type { AdapterFacts } from '../reading/merge.js';
import { AdapterUserField } from '../library/adapter-fields.js';
import type { AdapterSnapshot } from '../library/adapter.repository.js';
import { buildAdapterRow, buildUndigestedRow, digested, factsDigestOf } from './adapter-row.js';

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

describe(buildUndigestedRow.name, () => {
  // An import's worker thread builds rows without their digest; the main thread adds it to the row it received.
  it('should give, digested after a thread hop, the row buildAdapterRow gives, user edits included', async () => {
    const facts = await factsWith('from the sidecar');
    const first = buildAdapterRow(facts, file, root(), [], undefined, now);
    const edited: AdapterSnapshot = {
      ...first,
      name: 'My name',
      notes: 'my notes',
      userEdited: [AdapterUserField.Name, AdapterUserField.Notes],
    };
    for (const existing of [undefined, edited]) {
      const whole = buildAdapterRow(facts, file, root(), [], existing, now);
      const { row, fromFiles } = buildUndigestedRow(facts, file, root(), [], existing, now);
      expect(row.factsDigest).toBeNull();
      // What crosses between threads: a structured clone of the row and of the files' values of edited fields.
      const received = structuredClone({ row, fromFiles });
      expect(digested(received.row, received.fromFiles)).toEqual({ ...whole, id: received.row.id });
    }
    // The user's edits never read as a change in the files: same digest as the unedited row.
    const { row, fromFiles } = structuredClone(buildUndigestedRow(facts, file, root(), [], edited, now));
    expect(digested(row, fromFiles).factsDigest).toBe(first.factsDigest);
    expect(digested(row).factsDigest).not.toBe(first.factsDigest);
  });
});

describe(factsDigestOf.name, () => {
  // Digests are stored: one that changed between versions would make the next forced resync rewrite every row.
  it('should give the digests earlier versions stored for the same facts', () => {
    const row = {
      id: 'a1',
      rootId: 'r',
      relativePath: 'x/y.safetensors',
      name: 'Edited',
      tags: ['mine'],
      baseModel: 'SDXL 1.0',
      description: 'ünïcode "quoted"\n',
      nsfwLevel: 3,
      weightMin: undefined,
      preview: null,
      headerMetadata: {
        ss_tag_frequency: { a: { b: 1, c: 2 } },
        ss_network_dim: '16',
        list: [1, 'two', null, { three: 3 }],
      },
      civitaiPublishedAt: new Date('2025-01-02T03:04:05Z'),
      createdAt: new Date(0),
      updatedAt: new Date(1),
      searchText: 'ignored',
      favorite: true,
      notes: 'n',
    } as unknown as Parameters<typeof factsDigestOf>[0];
    expect(factsDigestOf(row, { name: 'From file', tags: ['a', 'b'] })).toBe(
      '35a08d0b733fef14a9ea8a3c845c12b1b130f761e6fe43ef103e3d21bc8d2002',
    );
    expect(factsDigestOf(row)).toBe('6de554dfc000dea843fe1a0b97296df2004b07c2172216e819a9d04a4cd30f36');
    // Fields that are not file facts (user state, timestamps, derived text) never change the digest.
    expect(factsDigestOf({ ...row, searchText: 'other', favorite: false, updatedAt: new Date(2) })).toBe(
      factsDigestOf(row),
    );
    expect(factsDigestOf({ ...row, description: 'changed' })).not.toBe(factsDigestOf(row));
  });
});
