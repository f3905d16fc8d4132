import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import {
  civitaiModelJson,
  makeTempDir,
  removeTempDir,
  writeSafetensors,
  writeSdnextModelJson,
  type CivitaiModelSpec,
} from '../../../../test/support/corpus-builder.js';
import { BaseModel } from './base-model.js';
import { MatchEvidence, MatchStrength, SidecarErrorReason, SidecarKind } from './facts.js';
import { readSdnextJson } from './sidecar-sdnext.js';
import { readSidecar } from './sidecars.js';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('sdnext-');
});
afterAll(async () => {
  await removeTempDir(dir);
});

function model(localSha: string | undefined, localName = 'my_style_v1.safetensors'): CivitaiModelSpec {
  return {
    id: 123456,
    name: 'My Painterly Style',
    creator: 'example_artist',
    tags: ['style', 'painterly'],
    allowCommercialUse: ['Image', 'RentCivit'],
    stats: { downloadCount: 1980, favoriteCount: 7, thumbsUpCount: 260, ratingCount: 3, rating: 4.5, commentCount: 14 },
    versions: [
      {
        id: 456789,
        name: 'v2.0',
        baseModel: 'Pony',
        trainedWords: ['mystyle2'],
        files: [{ name: 'my_style_v2.safetensors', sha256: 'ab'.repeat(32) }],
      },
      {
        id: 345678,
        name: 'v1.0',
        baseModel: 'SDXL 1.0',
        trainedWords: ['mystyle', 'painterly'],
        nsfwLevel: 1,
        files: [{ name: localName, sha256: localSha }],
      },
    ],
  };
}

describe(readSdnextJson.name, () => {
  it('should pick the version whose file matches the local SHA256, not the newest', async () => {
    const lora = await writeSafetensors(join(dir, 'my_style_v1.safetensors'), { seed: 'sdn' });
    const p = join(dir, 'my_style_v1.json');
    await writeSdnextModelJson(p, model(lora.sha256, 'renamed_on_civitai.safetensors'));
    const facts = await readSidecar(p, 'json', { fileName: lora.name, sha256: lora.sha256 });
    expect(facts).toMatchObject({
      kind: SidecarKind.SdnextJson,
      name: 'My Painterly Style',
      description: '<p>A soft painterly look.</p>',
      creator: 'example_artist',
      tags: ['style', 'painterly'],
      modelType: 'LORA',
      civitai: { modelId: 123456, versionId: 345678 },
      versionName: 'v1.0',
      baseModel: BaseModel.Sdxl10,
      trainedWords: ['mystyle', 'painterly'],
      license: {
        allowNoCredit: true,
        allowCommercialUse: ['Image', 'RentCivit'],
        allowDerivatives: true,
        allowDifferentLicense: true,
      },
      stats: { downloads: 1980, favorites: 7, likes: 260, ratingCount: 3, rating: 4.5, comments: 14 },
      primaryFile: {
        name: 'renamed_on_civitai.safetensors',
        match: { strength: MatchStrength.Exact, by: MatchEvidence.Sha256 },
      },
    });
    expect(facts.unmapped['otherVersions']).toEqual([
      { id: 456789, name: 'v2.0', baseModel: 'Pony', publishedAt: '2024-03-01T10:30:00.000Z' },
    ]);
    expect(facts.unmapped).not.toHaveProperty('modelVersions');
  });

  it('should fall back to the file name when no hash is known', () => {
    const facts = readSdnextJson(civitaiModelJson(model(undefined)), { fileName: 'MY_STYLE_V1.safetensors' });
    expect(facts.civitai?.versionId).toBe(345678);
    expect(facts.primaryFile?.match).toEqual({ strength: MatchStrength.Medium, by: MatchEvidence.FileName });
  });

  it('should record "model known, version unknown" instead of taking modelVersions[0]', () => {
    const facts = readSdnextJson(civitaiModelJson(model('cd'.repeat(32))), {
      fileName: 'unrelated.safetensors',
      sha256: 'ef'.repeat(32),
    });
    expect(facts.civitai).toEqual({ modelId: 123456 });
    expect(facts.versionName).toBeUndefined();
    expect(facts.baseModel).toBeUndefined();
    expect(facts.nsfwLevel).toBe(1);
    expect(facts.warnings[0]).toMatch(/version unknown/);
    expect(facts.unmapped['otherVersions']).toHaveLength(2);
  });

  it('should refuse an object without modelVersions', () => {
    expect(() => readSdnextJson({ id: 1, type: 'LORA' }, { fileName: 'x' })).toThrow(
      expect.objectContaining({ reason: SidecarErrorReason.UnrecognisedShape }),
    );
  });
});
