import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import {
  civitaiVersionJson,
  makeTempDir,
  removeTempDir,
  writeCivitaiInfo,
  writeSafetensors,
} from '../../../../test/support/corpus-builder.js';
import { BaseModel } from './base-model.js';
import { MatchEvidence, MatchStrength, SidecarError, SidecarErrorReason, SidecarKind } from './facts.js';
import { readCivitaiInfo } from './sidecar-civitai-info.js';
import { readSidecar } from './sidecars.js';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('civinfo-');
});
afterAll(async () => {
  await removeTempDir(dir);
});

describe(readCivitaiInfo.name, () => {
  it('should map a version JSON written next to a LoRA, matching its file by SHA256', async () => {
    const lora = await writeSafetensors(join(dir, 'my_style_v1.safetensors'), { seed: 'civ' });
    const infoPath = join(dir, 'my_style_v1.civitai.info');
    await writeCivitaiInfo(infoPath, {
      id: 345678,
      modelId: 123456,
      name: 'v1.0',
      baseModel: 'SDXL 1.0',
      trainedWords: ['mystyle', 'painterly, soft'],
      nsfwLevel: 3,
      description: '<p>First release.</p>',
      model: { name: 'My Painterly Style', type: 'LORA', nsfw: false, creator: 'example_artist' },
      files: [
        { name: 'my_style_v1_fp32.safetensors', sha256: 'ab'.repeat(32), primary: true, sizeKB: 4 },
        {
          name: 'my_style_v1.safetensors',
          sha256: lora.sha256,
          autoV3: lora.tensorSha256,
          sizeKB: lora.size / 1024,
          primary: false,
          crc32: '8B12116A',
        },
      ],
      images: [
        { url: 'https://image.civitai.com/a.mp4', type: 'video', nsfwLevel: 1 },
        { url: 'https://image.civitai.com/b.jpeg', nsfwLevel: 2, meta: { prompt: 'mystyle, a lighthouse' } },
      ],
      extra: { uploadType: 'Created', someNewField: { x: 1 } },
    });
    const facts = await readSidecar(infoPath, SidecarKind.CivitaiInfo, {
      fileName: lora.name,
      sha256: lora.sha256,
      size: lora.size,
    });
    expect(facts).toMatchObject({
      kind: SidecarKind.CivitaiInfo,
      name: 'My Painterly Style',
      versionName: 'v1.0',
      versionDescription: '<p>First release.</p>',
      creator: 'example_artist',
      civitai: { modelId: 123456, versionId: 345678, air: 'urn:air:sdxl:lora:civitai:123456@345678' },
      baseModel: BaseModel.Sdxl10,
      baseModelRaw: 'SDXL 1.0',
      modelType: 'LORA',
      nsfw: false,
      nsfwLevel: 3,
      trainedWords: ['mystyle', 'painterly, soft'],
      stats: { downloads: 1520, likes: 210 },
      publishedAt: '2024-03-01T10:30:00.000Z',
      updatedAt: '2024-03-01T10:30:00.000Z',
      createdAt: '2024-03-01T10:00:00.000Z',
      previewUrl: 'https://image.civitai.com/b.jpeg',
    });
    expect(facts.primaryFile).toMatchObject({
      name: 'my_style_v1.safetensors',
      hashes: {
        sha256: lora.sha256,
        autoV2: lora.sha256.slice(0, 10),
        autoV3: lora.tensorSha256.slice(0, 12),
        crc32: '8b12116a',
      },
      downloadUrl: 'https://civitai.com/api/download/models/345678',
      match: { strength: MatchStrength.Exact, by: MatchEvidence.Sha256 },
    });
    expect(facts.images?.[1].meta).toEqual({ prompt: 'mystyle, a lighthouse' });
    expect(facts.unmapped).toMatchObject({ uploadType: 'Created', someNewField: { x: 1 }, status: 'Published' });
    expect(facts.unmapped).not.toHaveProperty('files');
    expect(facts.file).toMatchObject({ path: infoPath, fileName: 'my_style_v1.civitai.info' });
    expect(facts.warnings).toEqual([]);
  });

  it('should read {} as "looked up, not on Civitai"', async () => {
    const p = join(dir, 'neg.civitai.info');
    await writeCivitaiInfo(p, 'empty');
    const facts = await readSidecar(p, SidecarKind.CivitaiInfo, { fileName: 'neg.safetensors' });
    expect(facts.civitaiNotFound).toBe(true);
    expect(facts.civitai).toBeUndefined();
  });

  it('should take the primary file on trust (strength none, with a warning) when nothing matches', () => {
    const json = civitaiVersionJson({
      id: 1,
      modelId: 2,
      files: [
        { name: 'a.safetensors', sha256: 'cd'.repeat(32), primary: true },
        { name: 'b.safetensors', primary: false },
      ],
    });
    const facts = readCivitaiInfo(json, { fileName: 'renamed.safetensors', sha256: 'ef'.repeat(32) });
    expect(facts.primaryFile).toMatchObject({
      name: 'a.safetensors',
      match: { strength: MatchStrength.None, by: MatchEvidence.Primary },
    });
    expect(facts.warnings[0]).toMatch(/took the primary file/);
  });

  it('should read an old Civitai Helper file: string nsfw levels, no nsfwLevel, creator as a string', () => {
    const json = civitaiVersionJson({
      id: 1,
      modelId: 2,
      images: [
        { url: 'u1', nsfw: 'None' },
        { url: 'u2', nsfw: 'Mature' },
      ],
      model: { name: 'Old', creator: 'olduser' },
    });
    const facts = readCivitaiInfo(json, { fileName: 'x.safetensors' });
    expect(facts.nsfwLevel).toBe(5);
    expect(facts.creator).toBe('olduser');
  });

  it('should reject JSON that is not a version object', () => {
    expect(() => readCivitaiInfo([], { fileName: 'x' })).toThrow(SidecarError);
    expect(() => readCivitaiInfo({ hello: 'world' }, { fileName: 'x' })).toThrow(
      expect.objectContaining({ reason: SidecarErrorReason.UnrecognisedShape }),
    );
  });
});
