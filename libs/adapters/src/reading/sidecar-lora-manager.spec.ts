import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import {
  loraManagerJson,
  makeTempDir,
  removeTempDir,
  writeLoraManagerMetadata,
  writeSafetensors,
} from '../../../../test/support/corpus-builder.js';
import { BaseModel } from './base-model.js';
import { MatchEvidence, MatchStrength, SidecarErrorReason, SidecarKind } from './facts.js';
import { readLoraManagerMetadata } from './sidecar-lora-manager.js';
import { readSidecar } from './sidecars.js';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('lm-');
});
afterAll(async () => {
  await removeTempDir(dir);
});

describe(readLoraManagerMetadata.name, () => {
  it('should map its own fields over its Civitai copy, and usage tips to weights', async () => {
    const lora = await writeSafetensors(join(dir, 'my_style_v1.safetensors'), { seed: 'lm' });
    const p = join(dir, 'my_style_v1.metadata.json');
    await writeLoraManagerMetadata(p, {
      modelName: 'My Renamed Style',
      sha256: lora.sha256,
      size: lora.size,
      baseModel: 'Illustrious',
      filePath: '/old/place/my_style_v1.safetensors',
      tags: ['user-tag'],
      modelDescription: '<p>Model description.</p>',
      notes: 'my notes',
      favorite: true,
      previewNsfwLevel: 2,
      autov3: lora.tensorSha256,
      usageTips: { strength: 0.7, clip_strength: 1, strength_min: 0.5, strength_max: 0.9 },
      civitai: {
        id: 345678,
        modelId: 123456,
        name: 'v1.0',
        baseModel: 'SDXL 1.0',
        trainedWords: ['user-edited-trigger'],
        nsfwLevel: 1,
        model: {
          name: 'My Painterly Style',
          type: 'LORA',
          tags: ['style'],
          description: '<p>civitai</p>',
          allowCommercialUse: ['Image'],
          allowNoCredit: true,
        },
        creator: { username: 'example_artist', image: null },
        files: [{ name: 'my_style_v1.safetensors', sha256: lora.sha256, primary: true }],
        images: [{ url: 'https://image.civitai.com/p.jpeg', nsfwLevel: 1 }],
      },
      extra: { exclude: false, metadata_source: 'civitai_api' },
    });
    const facts = await readSidecar(p, SidecarKind.LoraManagerMetadata, { fileName: lora.name, sha256: lora.sha256 });
    expect(facts).toMatchObject({
      kind: SidecarKind.LoraManagerMetadata,
      name: 'My Renamed Style',
      description: '<p>Model description.</p>',
      notes: 'my notes',
      tags: ['user-tag'],
      favorite: true,
      previewNsfwLevel: 2,
      trainedWords: ['user-edited-trigger'],
      baseModel: BaseModel.Illustrious,
      baseModelRaw: 'Illustrious',
      creator: 'example_artist',
      modelType: 'LORA',
      civitai: { modelId: 123456, versionId: 345678, deleted: false },
      versionName: 'v1.0',
      nsfwLevel: 1,
      preferredWeight: 0.7,
      weightMin: 0.5,
      weightMax: 0.9,
      license: { allowCommercialUse: ['Image'], allowNoCredit: true },
      previewUrl: 'https://image.civitai.com/p.jpeg',
      primaryFile: {
        name: 'my_style_v1.safetensors',
        hashes: { sha256: lora.sha256, autoV3: lora.tensorSha256.slice(0, 12) },
        match: { strength: MatchStrength.Exact, by: MatchEvidence.Sha256 },
      },
    });
    expect(facts.unmapped).toMatchObject({
      file_path: '/old/place/my_style_v1.safetensors',
      exclude: false,
      usage_tips: { clip_strength: 1 },
    });
    expect(facts.warnings).toEqual([]);
  });

  it('should read a file without Civitai data (own hashes only) and a null autov3', () => {
    const facts = readLoraManagerMetadata(
      loraManagerJson({ modelName: 'Local', sha256: 'AB'.repeat(32), autov3: null }),
      { fileName: 'local.safetensors' },
    );
    expect(facts.civitai).toEqual({ deleted: false });
    expect(facts.primaryFile).toEqual({ hashes: { sha256: 'ab'.repeat(32), autoV2: 'ab'.repeat(5) } });
    expect(facts.baseModel).toBeUndefined();
  });

  it("should read the creator LoRA-Manager copies as civitai.creator.name, like Civitai's username", () => {
    const facts = readLoraManagerMetadata(
      { model_name: 'x', civitai: { id: 1, modelId: 2, creator: { id: 3, name: 'ModelCreator', image: null } } },
      { fileName: 'x.safetensors' },
    );
    expect(facts.creator).toBe('ModelCreator');
    const both = readLoraManagerMetadata(
      { model_name: 'x', civitai: { id: 1, creator: { username: 'civitai_name', name: 'other' } } },
      { fileName: 'x.safetensors' },
    );
    expect(both.creator).toBe('civitai_name');
  });

  it('should accept usage_tips as an object and keep an unparsable one raw', () => {
    expect(
      readLoraManagerMetadata({ model_name: 'x', usage_tips: { strength: 1.2 } }, { fileName: 'x' }).preferredWeight,
    ).toBe(1.2);
    expect(
      readLoraManagerMetadata({ model_name: 'x', usage_tips: 'not json' }, { fileName: 'x' }).unmapped['usage_tips'],
    ).toBe('not json');
  });

  it('should refuse objects that are not LoRA-Manager metadata', () => {
    expect(() => readLoraManagerMetadata({ foo: 1 }, { fileName: 'x' })).toThrow(
      expect.objectContaining({ reason: SidecarErrorReason.UnrecognisedShape }),
    );
    expect(() => readLoraManagerMetadata('str', { fileName: 'x' })).toThrow(
      expect.objectContaining({ reason: SidecarErrorReason.NotAnObject }),
    );
  });
});
