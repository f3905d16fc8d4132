import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import {
  makeTempDir,
  removeTempDir,
  swarmJson,
  tinyPngDataUrl,
  writeSwarmJson,
} from '../../../../test/support/corpus-builder.js';
import { BaseModel } from './base-model.js';
import { SidecarErrorReason, SidecarKind } from './facts.js';
import { readSidecar } from './sidecars.js';
import { readSwarmJson } from './sidecar-swarm.js';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('swarm-');
});
afterAll(async () => {
  await removeTempDir(dir);
});

const TENSOR = '4c95f48482c699f7ba1affcc4c85f9b9e97428605ab311a17c2570d58c97c3ae';

describe(readSwarmJson.name, () => {
  it('should map the modelspec.* keys', async () => {
    const p = join(dir, 'my_style_v1.swarm.json');
    await writeSwarmJson(p, {
      triggerPhrase: 'mystyle, painterly',
      hashSha256: TENSOR,
      previewImage: tinyPngDataUrl(),
      license: 'CreativeML OpenRAIL-M',
    });
    const facts = await readSidecar(p, SidecarKind.SwarmJson, { fileName: 'my_style_v1.safetensors' });
    expect(facts).toMatchObject({
      kind: SidecarKind.SwarmJson,
      name: 'My Painterly Style',
      creator: 'example_artist',
      description: 'A soft painterly look.',
      notes: 'Works best between 0.6 and 0.9',
      activationText: 'mystyle, painterly',
      trainedWords: ['mystyle', 'painterly'],
      tags: ['style', 'painterly'],
      preferredWeight: 0.8,
      license: { license: 'CreativeML OpenRAIL-M' },
      publishedAt: '2024-03-01',
      baseModel: BaseModel.Sdxl10,
      baseModelRaw: 'stable-diffusion-xl-v1-base/lora',
      primaryFile: { hashes: { autoV3: '4c95f48482c6' } },
    });
    expect(facts.previewUrl).toBeUndefined();
    expect(facts.unmapped['modelspec.preview_image']).toBe('data');
    expect(facts.unmapped['modelspec.resolution']).toBe('1024x1024');
  });

  it('should accept comma-separated tags as in headers', () => {
    expect(readSwarmJson(swarmJson({ extra: { 'modelspec.tags': 'a, b' } }), { fileName: 'x' }).tags).toEqual([
      'a',
      'b',
    ]);
  });

  it('should refuse a file without modelspec keys', () => {
    expect(() => readSwarmJson({ title: 'x' }, { fileName: 'x' })).toThrow(
      expect.objectContaining({ reason: SidecarErrorReason.UnrecognisedShape }),
    );
  });
});
