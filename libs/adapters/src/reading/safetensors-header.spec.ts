import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  buildSafetensors,
  makeTempDir,
  removeTempDir,
  tinyPng,
  tinyPngDataUrl,
  writeSafetensors,
} from '../../../../test/support/corpus-builder.js';
import { LoraKind, LoraKindSource } from './lora-kind.js';
import {
  SafetensorsHeaderError,
  SafetensorsHeaderErrorReason as R,
  parseSafetensorsHeader,
  readSafetensorsHeader,
  sanitiseMetadata,
} from './safetensors-header.js';

let dir: string;
let n = 0;
const file = (name = `f${n++}.safetensors`): string => join(dir, name);

beforeAll(async () => {
  dir = await makeTempDir('st-header-');
});
afterAll(async () => {
  await removeTempDir(dir);
});

async function expectReason(
  path: string,
  reason: R,
  opts?: Parameters<typeof readSafetensorsHeader>[1],
): Promise<SafetensorsHeaderError> {
  const err = await readSafetensorsHeader(path, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SafetensorsHeaderError);
  const e = err as SafetensorsHeaderError;
  expect(e.reason).toBe(reason);
  expect(e.message.length).toBeGreaterThan(10);
  return e;
}

describe(readSafetensorsHeader.name, () => {
  it('should read metadata, tensors, lengths and the data offset of a valid file', async () => {
    const w = await writeSafetensors(file(), {
      metadata: {
        ss_output_name: 'my_style_v1',
        ss_network_module: 'networks.lora',
        ss_base_model_version: 'sdxl_base_v1-0',
      },
    });
    const h = await readSafetensorsHeader(w.path);
    expect(h.metadata).toEqual({
      ss_output_name: 'my_style_v1',
      ss_network_module: 'networks.lora',
      ss_base_model_version: 'sdxl_base_v1-0',
    });
    expect(h.headerLength).toBe(w.headerLength);
    expect(h.headerLength % 8).toBe(0);
    expect(h.dataOffset).toBe(8 + w.headerLength);
    expect(h.dataOffset + h.dataLength).toBe(w.size);
    expect(h.fileSize).toBe(w.size);
    expect(h.tensorCount).toBe(3);
    expect(h.tensorNames).toContain('lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight');
    expect(h.dtypes).toEqual(['F16']);
    expect(h.loraKind).toMatchObject({
      kind: LoraKind.LoRA,
      source: LoraKindSource.NetworkModule,
      fromTensors: LoraKind.LoRA,
    });
    expect(await readSafetensorsHeader(w.path, { syncIo: true })).toEqual(h);
    expect(h.warnings).toEqual([]);
  });

  it('should treat a missing __metadata__ as empty and accept a file without tensors', async () => {
    const w = await writeSafetensors(file(), { tensors: [] });
    const h = await readSafetensorsHeader(w.path);
    expect(h.metadata).toEqual({});
    expect(h.tensorCount).toBe(0);
    expect(h.dataLength).toBe(0);
  });

  it('should accept an unpadded header', async () => {
    const w = await writeSafetensors(file(), { metadata: { a: 'b' }, headerAlignment: 1 });
    const h = await readSafetensorsHeader(w.path);
    expect(h.metadata).toEqual({ a: 'b' });
  });

  it('should not read the tensor data (a 2 GiB sparse file takes milliseconds)', async () => {
    const big = 2 ** 31;
    const header = Buffer.from(
      JSON.stringify({ __metadata__: { k: 'v' }, t: { dtype: 'U8', shape: [big], data_offsets: [0, big] } }).padEnd(
        104,
        ' ',
      ),
    );
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(header.length));
    const path = file();
    await writeFile(path, Buffer.concat([prefix, header]));
    const fh = await open(path, 'r+');
    await fh.truncate(8 + header.length + big);
    await fh.close();
    const t0 = performance.now();
    const h = await readSafetensorsHeader(path);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(h.dataLength).toBe(big);
    expect(h.metadata).toEqual({ k: 'v' });
  });

  describe('checks of LORA-FORMATS §1.1', () => {
    it('should reject a zero-byte file as too small', async () => {
      const path = file();
      await writeFile(path, Buffer.alloc(0));
      const e = await expectReason(path, R.FileTooSmall);
      expect(e.path).toBe(path);
      expect(e.message).toContain(path);
    });

    it('should reject a file shorter than 8 bytes as too small', async () => {
      const path = file();
      await writeFile(path, Buffer.from([1, 2, 3, 4, 5]));
      await expectReason(path, R.FileTooSmall);
    });

    it('should reject N above the default cap of 100,000,000 without reading it', async () => {
      const w = await writeSafetensors(file(), { declaredHeaderLength: 100_000_001 });
      const e = await expectReason(w.path, R.HeaderTooLarge);
      expect(e.details).toMatchObject({ max: 100_000_000 });
    });

    it('should accept N at the cap boundary and reject it above a configured cap', async () => {
      const w = await writeSafetensors(file(), { metadata: { a: 'b' } });
      await expect(readSafetensorsHeader(w.path, { maxHeaderBytes: w.headerLength })).resolves.toBeDefined();
      await expectReason(w.path, R.HeaderTooLarge, { maxHeaderBytes: w.headerLength - 1 });
    });

    it('should reject a u64 length beyond Number range as too large', async () => {
      const w = await writeSafetensors(file(), { declaredHeaderLength: 2n ** 63n });
      await expectReason(w.path, R.HeaderTooLarge);
    });

    it('should reject N ≤ 2', async () => {
      const w = await writeSafetensors(file(), { rawHeader: '{}', tensors: [] });
      await expectReason(w.path, R.HeaderTooSmall);
    });

    it('should reject a header that does not start with "{"', async () => {
      const w = await writeSafetensors(file(), { rawHeader: ' {"a": 1}              ', tensors: [] });
      await expectReason(w.path, R.HeaderNotObject);
      const arr = await writeSafetensors(file(), { rawHeader: '[1, 2, 3]               ', tensors: [] });
      await expectReason(arr.path, R.HeaderNotObject);
    });

    it('should reject 8 + N beyond the file size as a truncated header', async () => {
      const bytes = buildSafetensors({ metadata: { a: 'b' } }).bytes.subarray(0, 40);
      const path = file();
      await writeFile(path, bytes);
      const e = await expectReason(path, R.HeaderTruncated);
      expect(e.details).toMatchObject({ size: 40 });
    });

    it('should reject invalid UTF-8', async () => {
      const raw = Buffer.concat([
        Buffer.from('{"__metadata__": {"a": "'),
        Buffer.from([0xff, 0xfe, 0xc0]),
        Buffer.from('"}}      '),
      ]);
      const w = await writeSafetensors(file(), { rawHeader: raw, tensors: [] });
      await expectReason(w.path, R.InvalidUtf8);
    });

    it('should reject invalid JSON', async () => {
      const w = await writeSafetensors(file(), { rawHeader: '{"a": 1,,}              ', tensors: [] });
      const e = await expectReason(w.path, R.InvalidJson);
      expect(e.cause).toBeInstanceOf(SyntaxError);
    });

    it('should reject tensor entries without usable dtype, shape or offsets', async () => {
      const cases = [
        { t: 'not an object' },
        { t: { dtype: 1, shape: [1], data_offsets: [0, 1] } },
        { t: { dtype: 'U8', shape: [-1], data_offsets: [0, 1] } },
        { t: { dtype: 'U8', shape: [1], data_offsets: [0] } },
        { t: { dtype: 'U8', shape: [1], data_offsets: [2, 1] } },
      ];
      for (const c of cases) {
        const w = await writeSafetensors(file(), { rawHeader: JSON.stringify(c), tensors: [] });
        await expectReason(w.path, R.InvalidTensorInfo);
      }
    });

    it('should reject a file whose tensor data is cut short', async () => {
      const w = await writeSafetensors(file(), { truncateBy: 10 });
      const e = await expectReason(w.path, R.DataTruncated);
      expect(e.details).toMatchObject({ expected: w.size + 10, size: w.size });
    });

    it('should reject bytes after the last tensor', async () => {
      const w = await writeSafetensors(file(), { trailingBytes: 3 });
      await expectReason(w.path, R.TrailingBytes);
    });

    it('should report a directory as not a file and a missing path as an I/O error', async () => {
      const d = join(dir, 'a-dir.safetensors');
      await mkdir(d);
      await expectReason(d, R.NotAFile);
      const e = await expectReason(join(dir, 'missing.safetensors'), R.Io);
      expect(e.details).toMatchObject({ code: 'ENOENT' });
    });
  });

  it('should warn, not fail, when tensor sizes do not add up or leave gaps', async () => {
    const header = {
      a: { dtype: 'F16', shape: [4], data_offsets: [0, 6] },
      b: { dtype: 'F16', shape: [1], data_offsets: [8, 10] },
      c: { dtype: 'Q4', shape: [1], data_offsets: [10, 11] },
    };
    const w = await writeSafetensors(file(), {
      rawHeader: JSON.stringify(header),
      tensors: [{ name: 'x', dtype: 'U8', shape: [11] }],
    });
    const h = await readSafetensorsHeader(w.path);
    expect(h.warnings.join('\n')).toMatch(/"a": 6 bytes for F16\[4\] \(expected 8\)/);
    expect(h.warnings.join('\n')).toMatch(/unknown dtype Q4/);
    expect(h.warnings.join('\n')).toMatch(/"b" starts at 8, expected 6/);
  });

  it('should decode the embedded preview only when asked', async () => {
    const w = await writeSafetensors(file(), { metadata: { 'modelspec.thumbnail': tinyPngDataUrl() } });
    const plain = await readSafetensorsHeader(w.path);
    expect(plain.metadata['modelspec.thumbnail']).toBe('data');
    expect(plain.embeddedImages).toEqual([
      expect.objectContaining({ key: 'modelspec.thumbnail', contentType: 'image/png', oversized: false }),
    ]);
    expect(plain.embeddedPreview).toBeUndefined();
    const decoded = await readSafetensorsHeader(w.path, { decodeEmbeddedPreview: true });
    expect(decoded.embeddedPreview?.bytes.equals(tinyPng())).toBe(true);
    expect(decoded.embeddedPreview?.contentType).toBe('image/png');
  });

  it('should only ever decode a real image of a browser-safe type, served as what its bytes are', async () => {
    const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
    const w = await writeSafetensors(file(), {
      metadata: {
        // Script dressed as a thumbnail, an SVG (scriptable), a URL-encoded image, and a PNG that says it is a JPEG.
        'modelspec.thumbnail': `data:text/html;base64,${b64('<script>alert(1)</script>')}`,
        'modelspec.preview_image': `data:image/svg+xml;base64,${b64('<svg onload="alert(1)"/>')}`,
        ssmd_cover_images: JSON.stringify([`data:image/jpeg;base64,${tinyPng().toString('base64')}`]),
      },
    });
    const h = await readSafetensorsHeader(w.path, { decodeEmbeddedPreview: true });
    expect(h.embeddedImages.map((e) => [e.key, e.usable])).toEqual([
      ['modelspec.thumbnail', false],
      ['modelspec.preview_image', false],
      ['ssmd_cover_images', true],
    ]);
    expect(h.embeddedPreview).toMatchObject({ key: 'ssmd_cover_images', contentType: 'image/png' });
    // A key asked for by name is decoded only if it is usable.
    expect(
      (await readSafetensorsHeader(w.path, { decodeEmbeddedPreview: 'modelspec.thumbnail' })).embeddedPreview,
    ).toBeUndefined();
    // Bytes that are no image, whatever the data URL claims, are never served.
    const fake = await writeSafetensors(file(), {
      metadata: { 'modelspec.thumbnail': `data:image/png;base64,${b64('<html>')}` },
    });
    expect((await readSafetensorsHeader(fake.path, { decodeEmbeddedPreview: true })).embeddedPreview).toBeUndefined();
  });
});

describe(parseSafetensorsHeader.name, () => {
  it('should validate header bytes without a file', () => {
    const built = buildSafetensors({ metadata: { x: 'y' } });
    const h = parseSafetensorsHeader(built.bytes.subarray(8, built.dataOffset), built.size);
    expect(h.metadata).toEqual({ x: 'y' });
    expect(h.path).toBeUndefined();
    expect(() => parseSafetensorsHeader(built.bytes.subarray(8, built.dataOffset), built.size + 1)).toThrow(
      SafetensorsHeaderError,
    );
  });
});

describe(sanitiseMetadata.name, () => {
  const big = (n: number): string => 'x'.repeat(n);

  it('should stringify non-string values and drop nulls', () => {
    const s = sanitiseMetadata({ n: 16, f: 0.5, b: true, o: { a: 1 }, arr: [1, 'a'], z: null });
    expect(s.metadata).toEqual({ n: '16', f: '0.5', b: 'true', o: '{"a":1}', arr: '[1,"a"]' });
    expect(s.actions).toContainEqual({ key: 'z', action: 'dropped', why: 'null value' });
    expect(s.actions.filter((a) => a.action === 'stringified').map((a) => a.key)).toEqual(['n', 'f', 'b', 'o', 'arr']);
  });

  it('should apply SD.Next caps: data URIs, workflow, NaN, format=pt, large dataset/bucket/prompt values', () => {
    const s = sanitiseMetadata({
      other_image: 'data:image/jpeg;base64,AAAA',
      workflow: '{"nodes": []}',
      ss_clip_skip: 'NaN',
      format: 'pt',
      ss_datasets: big(2049),
      ss_bucket_info: big(3000),
      prompt: big(5000),
      sd_metadata_file: big(2049),
      small_prompt: 'keep',
      ss_training_comment: big(2049),
    });
    expect(s.metadata).toEqual({
      other_image: 'data',
      workflow: 'workflow',
      small_prompt: 'keep',
      ss_training_comment: big(2049),
    });
    expect(sanitiseMetadata({ ss_datasets: big(2048) }).metadata['ss_datasets']).toHaveLength(2048);
    expect(sanitiseMetadata({ format: 'pt_other' }).metadata).toEqual({ format: 'pt_other' });
  });

  it('should keep a small ss_tag_frequency verbatim and collapse a large one to tag counts per folder', () => {
    const small = JSON.stringify({
      '10_mystyle': { mystyle: 120, painterly: 85 },
      '5_extra': { painterly: 20, soft: 3 },
    });
    const s1 = sanitiseMetadata({ ss_tag_frequency: small });
    expect(s1.metadata['ss_tag_frequency']).toBe(small);
    expect(s1.tagFrequency).toEqual([
      { tag: 'mystyle', count: 120 },
      { tag: 'painterly', count: 105 },
      { tag: 'soft', count: 3 },
    ]);

    const tags: Record<string, number> = {};
    for (let i = 0; i < 300; i++) tags[`tag number ${i}`] = 300 - i;
    const large = JSON.stringify({ '10_a': tags, '1_b': { only: 1 } });
    const s2 = sanitiseMetadata({ ss_tag_frequency: large }, { maxTagSuggestions: 5 });
    expect(JSON.parse(s2.metadata['ss_tag_frequency'])).toEqual({ '10_a': 300, '1_b': 1 });
    expect(s2.actions).toContainEqual(expect.objectContaining({ key: 'ss_tag_frequency', action: 'collapsed' }));
    expect(s2.tagFrequency).toHaveLength(5);
    expect(s2.tagFrequency[0]).toEqual({ tag: 'tag number 0', count: 300 });
  });

  it('should scrub sd_merge_recipe from a large sd_merge_models', () => {
    const v = JSON.stringify({ m1: { name: 'a', sd_merge_recipe: { big: big(3000) } }, m2: { name: 'b' } });
    const s = sanitiseMetadata({ sd_merge_models: v });
    expect(JSON.parse(s.metadata['sd_merge_models'])).toEqual({ m1: { name: 'a' }, m2: { name: 'b' } });
  });

  it('should record embedded images (data URLs and ssmd_cover_images) and replace them by "data"', () => {
    const cover = JSON.stringify([tinyPng().toString('base64')]);
    const s = sanitiseMetadata({ 'modelspec.preview_image': 'data:image/webp;base64,UklGR', ssmd_cover_images: cover });
    expect(s.metadata).toEqual({ 'modelspec.preview_image': 'data', ssmd_cover_images: 'data' });
    expect(s.embedded.map((e) => [e.key, e.contentType])).toEqual([
      ['modelspec.preview_image', 'image/webp'],
      ['ssmd_cover_images', 'image/png'],
    ]);
    expect(sanitiseMetadata({ ssmd_cover_images: '[]' }).metadata).toEqual({ ssmd_cover_images: '[]' });
  });

  it('should drop values longer than maxValueChars with a warning', () => {
    const s = sanitiseMetadata({ 'modelspec.description': big(101) }, { maxValueChars: 100 });
    expect(s.metadata).toEqual({});
    expect(s.warnings[0]).toMatch(/modelspec.description/);
  });
});
