import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { DomainError } from '../libs/core/src/index.js';
import { readImageMetadata } from '../libs/results/src/recipes/image-metadata.js';
import { MAX_RECIPE_LORAS, parseComfy, parseInfotext } from '../libs/results/src/recipes/recipe-parsing.js';
import {
  comfyPromptGraph,
  exifWithUserComment,
  iTXt,
  jpegWithExif,
  png,
  tEXt,
  webpWithExif,
  zTXt,
} from './support/recipe-images.js';
import { REAL_SAMPLES_DIR } from './support/shared-fixtures.js';

const SAMPLES = REAL_SAMPLES_DIR && join(REAL_SAMPLES_DIR, 'sdnext-json');

const A1111 = [
  'masterpiece, a red fox <lora:alpha_v2:0.8>, (forest:1.2) <lora:beta:0.5:0.3>',
  'second line of prompt',
  'Negative prompt: blurry, lowres',
  'watermark',
  'Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 1234567890, Size: 832x1216, ' +
    'Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Clip skip: 2, ' +
    'Lora hashes: "alpha_v2: 0123456789ab, beta: ABCDEF012345", Version: v1.10.1',
].join('\n');

function refusal(fn: () => unknown): { code: string; details: unknown } {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError) return { code: error.code, details: error.details };
    throw error;
  }
  throw new Error('no refusal');
}

describe('parseInfotext (A1111 / SD.Next)', () => {
  it('should read the prompt, the negative prompt, the settings and each LoRA with its hash', () => {
    const parsed = parseInfotext(A1111);
    expect(parsed.prompt).toBe(
      'masterpiece, a red fox <lora:alpha_v2:0.8>, (forest:1.2) <lora:beta:0.5:0.3>\nsecond line of prompt',
    );
    expect(parsed.negativePrompt).toBe('blurry, lowres\nwatermark');
    expect(parsed.parameters).toEqual({
      steps: 28,
      sampler_name: 'DPM++ 2M',
      scheduler: 'Karras',
      cfg_scale: 6.5,
      seed: 1234567890,
      width: 832,
      height: 1216,
      clip_skip: 2,
      model: 'sd_xl_base_1.0',
      model_hash: '31e35c80fc',
    });
    expect(parsed.loras).toEqual([
      { name: 'alpha_v2', weight: 0.8, hash: '0123456789ab', fileName: null },
      { name: 'beta', weight: 0.5, hash: 'abcdef012345', fileName: null },
    ]);
    expect(parsed.warnings).toEqual([]);
  });

  it('should warn about malformed tokens and keep the good ones', () => {
    const parsed = parseInfotext(
      'a <lora:good:0.7> <lora::1> <lora:bad:abc> <lora:> <lora:open:0.5\nSteps: 1, Seed: 2, Size: 8x8',
    );
    expect(parsed.loras.map((l) => l.name)).toEqual(['good']);
    expect(parsed.warnings).toEqual([
      expect.objectContaining({ code: 'malformed_lora_token', message: expect.stringContaining('4 LoRA token(s)') }),
    ]);
  });

  it(`should keep ${MAX_RECIPE_LORAS} of 10,000 LoRAs and say so`, () => {
    const tokens = Array.from({ length: 10_000 }, (_, i) => `<lora:l${i}:0.1>`).join(' ');
    const started = performance.now();
    const parsed = parseInfotext(`${tokens}\nSteps: 1, Seed: 2, Size: 8x8`);
    const ms = performance.now() - started;
    expect(parsed.loras).toHaveLength(MAX_RECIPE_LORAS);
    expect(parsed.warnings).toEqual([expect.objectContaining({ code: 'too_many_loras' })]);
    process.stdout.write(`infotext with 10,000 LoRA tokens parsed in ${ms.toFixed(1)} ms\n`);
    expect(ms).toBeLessThan(1_000);
  });

  const samples = SAMPLES && existsSync(SAMPLES) ? readdirSync(SAMPLES).filter((f) => f.endsWith('.json')) : [];
  (samples.length > 0 ? it : it.skip)('should read back infotexts built from real Civitai image metadata', () => {
    let checked = 0;
    for (const file of samples) {
      const model = JSON.parse(readFileSync(join(SAMPLES!, file), 'utf8')) as {
        modelVersions?: { images?: { meta?: Record<string, unknown> | null }[] }[];
      };
      for (const image of model.modelVersions?.flatMap((v) => v.images ?? []) ?? []) {
        const meta = image.meta;
        if (!meta || typeof meta.prompt !== 'string' || typeof meta.steps !== 'number') continue;
        const line = [
          `Steps: ${meta.steps}`,
          `Sampler: ${String(meta.sampler)}`,
          `CFG scale: ${String(meta.cfgScale)}`,
          `Seed: ${String(meta.seed)}`,
          `Size: ${String(meta.Size)}`,
        ].join(', ');
        const negative = typeof meta.negativePrompt === 'string' ? `\nNegative prompt: ${meta.negativePrompt}` : '';
        const parsed = parseInfotext(`${meta.prompt}${negative}\n${line}`);
        expect(parsed.prompt).toBe(meta.prompt.trim());
        expect(parsed.parameters.steps).toBe(meta.steps);
        expect(parsed.parameters.seed).toBe(meta.seed);
        expect(`${parsed.parameters.width}x${parsed.parameters.height}`).toBe(meta.Size);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(5);
  });
});

describe('parseComfy', () => {
  it('should read LoraLoader and LoraLoaderModelOnly nodes, the prompts and the sampler', () => {
    const parsed = parseComfy(
      comfyPromptGraph([
        { file: 'styles/alpha_v2.safetensors', strength: 0.75 },
        { file: 'beta.safetensors', strength: 0.4, modelOnly: true },
      ]),
      null,
    )!;
    expect(parsed.loras).toEqual([
      { name: 'alpha_v2', weight: 0.75, hash: null, fileName: 'styles/alpha_v2.safetensors' },
      { name: 'beta', weight: 0.4, hash: null, fileName: 'beta.safetensors' },
    ]);
    expect(parsed).toMatchObject({
      origin: 'comfyui',
      prompt: 'a castle in the clouds',
      negativePrompt: 'lowres, watermark',
    });
    expect(parsed.parameters).toMatchObject({ seed: 42, steps: 28, cfg_scale: 6.5, width: 832, height: 1216 });
  });

  it('should fall back to the UI workflow and ignore JSON that is not a graph', () => {
    const workflow = JSON.stringify({
      nodes: [
        { type: 'LoraLoader', widgets_values: ['gamma.safetensors', 0.6, 1] },
        { type: 'LoraLoader', mode: 4, widgets_values: ['bypassed.safetensors', 1, 1] },
        { type: 'CLIPTextEncode', widgets_values: ['a cat'] },
      ],
    });
    expect(parseComfy('not json', workflow)?.loras.map((l) => [l.name, l.weight])).toEqual([['gamma', 0.6]]);
    expect(parseComfy('[1,2]', '{"nodes": 3}')).toBeNull();
  });
});

describe('readImageMetadata', () => {
  it('should read tEXt, iTXt and zTXt chunks of a PNG', () => {
    for (const chunk of [tEXt, iTXt, zTXt]) {
      const meta = readImageMetadata(png(8, 8, [chunk('parameters', A1111), chunk('prompt', '{"1":{}}')]));
      expect(meta).toMatchObject({ format: 'png', width: 8, height: 8, parameters: A1111, comfyPrompt: '{"1":{}}' });
    }
  });

  it('should read the EXIF UserComment of JPEG and WebP in UCS-2 (both byte orders) and ASCII', () => {
    for (const charset of ['unicode-be', 'unicode-le', 'ascii'] as const) {
      const exif = exifWithUserComment(A1111, charset);
      expect(readImageMetadata(jpegWithExif(exif))).toMatchObject({
        format: 'jpeg',
        width: 64,
        height: 48,
        parameters: A1111,
      });
      expect(readImageMetadata(webpWithExif(exif))).toMatchObject({
        format: 'webp',
        width: 64,
        height: 48,
        parameters: A1111,
      });
    }
  });

  it('should read a 50,000 × 50,000 header without decoding it', () => {
    const started = performance.now();
    const meta = readImageMetadata(png(50_000, 50_000, [tEXt('parameters', A1111)]));
    expect(performance.now() - started).toBeLessThan(100);
    expect(meta).toMatchObject({ width: 50_000, height: 50_000, parameters: A1111 });
  });

  it('should refuse what is not an image, and truncated files, naming the image field', () => {
    const whole = png(8, 8, [tEXt('parameters', A1111)]);
    expect(refusal(() => readImageMetadata(Buffer.from('hello, not an image')))).toEqual({
      code: 'not_an_image',
      details: [{ field: 'image', message: 'is not a PNG, JPEG or WebP image' }],
    });
    for (const cut of [20, 40, whole.length - 5]) {
      expect(refusal(() => readImageMetadata(whole.subarray(0, cut))).code).toBe('truncated_image');
    }
    const jpeg = jpegWithExif(exifWithUserComment('x', 'ascii'));
    expect(refusal(() => readImageMetadata(jpeg.subarray(0, 30))).code).toBe('truncated_image');
  });

  it('should parse a typical PNG in well under a millisecond', () => {
    const image = png(8, 8, [tEXt('parameters', A1111)]);
    const runs = 2_000;
    const started = performance.now();
    for (let i = 0; i < runs; i++) parseInfotext(readImageMetadata(image).parameters!);
    const each = (performance.now() - started) / runs;
    process.stdout.write(`read + parse of one PNG infotext: ${(each * 1000).toFixed(1)} µs\n`);
    expect(each).toBeLessThan(1);
  });
});
