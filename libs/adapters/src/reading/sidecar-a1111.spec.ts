import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { a1111Json, makeTempDir, removeTempDir, writeA1111Json } from '../../../../test/support/corpus-builder.js';
import { BaseModel } from './base-model.js';
import { SidecarErrorReason, SidecarKind } from './facts.js';
import { readA1111Json, splitActivationText } from './sidecar-a1111.js';
import { readSidecar } from './sidecars.js';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('a1111-');
});
afterAll(async () => {
  await removeTempDir(dir);
});

const SHA = 'c8cc6e447600acbe0b20dc485d1da93c71a36fb7cb8e95a886b4c15574401e13';

describe(readA1111Json.name, () => {
  it('should map the user-metadata keys, and the civbrowser+ ids and sha256 (sniffed from a plain .json)', async () => {
    const p = join(dir, 'my_style_v1.json');
    await writeA1111Json(p, {
      description: 'Painterly style trained on 120 images.',
      sdVersion: 'SDXL',
      activationText: 'mystyle, painterly <lora:other:0.5>',
      preferredWeight: 0.8,
      negativeText: 'photo, 3d render',
      notes: 'https://civitai.com/models/123456?modelVersionId=345678',
      sha256: SHA.toUpperCase(),
      modelId: 123456,
      modelVersionId: 345678,
      extra: { vae: 'sdxl_vae.safetensors' },
    });
    const facts = await readSidecar(p, 'json', { fileName: 'my_style_v1.safetensors' });
    expect(facts).toMatchObject({
      kind: SidecarKind.A1111Json,
      description: 'Painterly style trained on 120 images.',
      activationText: 'mystyle, painterly <lora:other:0.5>',
      trainedWords: ['mystyle', 'painterly'],
      preferredWeight: 0.8,
      negativeText: 'photo, 3d render',
      notes: 'https://civitai.com/models/123456?modelVersionId=345678',
      baseModel: BaseModel.Sdxl10,
      baseModelRaw: 'SDXL',
      civitai: { modelId: 123456, versionId: 345678 },
      primaryFile: { hashes: { sha256: SHA, autoV2: SHA.slice(0, 10) } },
    });
    // Kept beside the unmapped keys (no column of its own); an empty one (A1111's default) is left out.
    expect(facts.unmapped).toEqual({ vae: 'sdxl_vae.safetensors', 'negative text': 'photo, 3d render' });
    expect(readA1111Json(a1111Json({ negativeText: '' }), { fileName: 'x' }).unmapped).toEqual({});
  });

  it('should treat preferred weight 0 as unset and "Unknown" sd version as no hint', () => {
    const facts = readA1111Json(a1111Json({ preferredWeight: 0, sdVersion: 'Unknown' }), { fileName: 'x' });
    expect(facts.preferredWeight).toBeUndefined();
    expect(facts.baseModel).toBeUndefined();
    expect(facts.baseModelRaw).toBe('Unknown');
    expect(facts.trainedWords).toEqual([]);
  });

  it('should map SD1 and SD2 hints and read an empty object without failing', () => {
    expect(readA1111Json({ 'sd version': 'SD1' }, { fileName: 'x' }).baseModel).toBe(BaseModel.Sd15);
    expect(readA1111Json({ 'sd version': 'SD2' }, { fileName: 'x' }).baseModel).toBe(BaseModel.Sd21);
    expect(readA1111Json({}, { fileName: 'x' })).toMatchObject({
      kind: SidecarKind.A1111Json,
      tags: [],
      trainedWords: [],
    });
  });

  it('should warn about a malformed sha256 and refuse an SD.Next object', () => {
    expect(readA1111Json({ sha256: 'xyz' }, { fileName: 'x' }).warnings[0]).toMatch(/sha256/);
    expect(() => readA1111Json({ modelVersions: [] }, { fileName: 'x' })).toThrow(
      expect.objectContaining({ reason: SidecarErrorReason.UnrecognisedShape }),
    );
  });
});

describe(splitActivationText.name, () => {
  it('should split on commas and " || " alternatives, dropping empties and duplicates', () => {
    expect(splitActivationText('mystyle, painterly || mystyle, soft light,, ')).toEqual([
      'mystyle',
      'painterly',
      'soft light',
    ]);
  });
});
