import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import {
  cmInfoJson,
  makeTempDir,
  removeTempDir,
  writeCmInfo,
  writeSafetensors,
} from '../../../../test/support/corpus-builder.js';
import { BaseModel } from './base-model.js';
import { MatchEvidence, MatchStrength, SidecarErrorReason, SidecarKind } from './facts.js';
import { readCmInfo } from './sidecar-cm-info.js';
import { readSidecar } from './sidecars.js';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('cminfo-');
});
afterAll(async () => {
  await removeTempDir(dir);
});

const BLAKE = '8345ec8e0af2dc219f3fcfa42f8089a70131e4e4d7927f56b76370432ee7416c';

describe(readCmInfo.name, () => {
  it('should map the PascalCase ConnectedModelInfo and match the file by hash', async () => {
    const lora = await writeSafetensors(join(dir, 'my_style_v1.safetensors'), { seed: 'cm' });
    const p = join(dir, 'my_style_v1.cm-info.json');
    await writeCmInfo(p, {
      sha256: lora.sha256,
      blake3: BLAKE,
      crc32: '8b12116a',
      remoteFileName: 'my_style_v1.safetensors',
      thumbnailImageUrl: 'https://x/y.jpeg',
    });
    const facts = await readSidecar(p, SidecarKind.CmInfo, { fileName: lora.name, sha256: lora.sha256 });
    expect(facts).toMatchObject({
      kind: SidecarKind.CmInfo,
      name: 'My Painterly Style',
      versionName: 'v1.0',
      description: '<p>A soft painterly look.</p>',
      versionDescription: '<p>First release.</p>',
      creator: 'example_artist',
      civitai: { modelId: 123456, versionId: 345678 },
      baseModel: BaseModel.Sdxl10,
      modelType: 'LORA',
      tags: ['style', 'painterly'],
      trainedWords: ['mystyle', 'painterly'],
      nsfw: false,
      stats: { downloads: 1980, likes: 260, favorites: 0, comments: 14, ratingCount: 0, rating: 0 },
      previewUrl: 'https://x/y.jpeg',
      primaryFile: {
        id: 278901,
        name: 'my_style_v1.safetensors',
        hashes: { sha256: lora.sha256, autoV2: lora.sha256.slice(0, 10), blake3: BLAKE, crc32: '8b12116a' },
        match: { strength: MatchStrength.Exact, by: MatchEvidence.Sha256 },
      },
    });
    expect(facts.unmapped).toMatchObject({
      ImportedAt: '2024-03-02T09:15:00+00:00',
      Source: 'Civitai',
      FileMetadata: { format: 'SafeTensor' },
    });
    expect(facts.unmapped).not.toHaveProperty('InferenceDefaults');
  });

  it('should prefer UserTitle and accept Source as a name', () => {
    const facts = readCmInfo(cmInfoJson({ userTitle: 'Mine', source: 'Civitai' }), { fileName: 'x.safetensors' });
    expect(facts.name).toBe('Mine');
    expect(facts.civitai).toEqual({ modelId: 123456, versionId: 345678 });
  });

  it('should not take ids of a non-Civitai source for Civitai ids', () => {
    const facts = readCmInfo(cmInfoJson({ source: 1 }), { fileName: 'x.safetensors' });
    expect(facts.civitai).toBeUndefined();
    expect(facts.unmapped['Source']).toBe('OpenModelDb');
    expect(facts.warnings[0]).toMatch(/not Civitai ids/);
  });

  it('should warn when its hashes do not match the local file', () => {
    const facts = readCmInfo(cmInfoJson({ sha256: 'ab'.repeat(32), remoteFileName: 'other.safetensors' }), {
      fileName: 'x.safetensors',
      sha256: 'cd'.repeat(32),
    });
    expect(facts.primaryFile?.match).toEqual({ strength: MatchStrength.None, by: MatchEvidence.Only });
    expect(facts.warnings).toContain('Hashes do not match the local file');
  });

  it('should refuse an unrelated object', () => {
    expect(() => readCmInfo({ Foo: 1 }, { fileName: 'x' })).toThrow(
      expect.objectContaining({ reason: SidecarErrorReason.UnrecognisedShape }),
    );
  });
});
