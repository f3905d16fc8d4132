import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import {
  EDGE_CASES,
  SIDECAR_ROTATION,
  TINY_JPEG,
  buildCorpus,
  buildEdgeCaseCorpus,
  buildSafetensors,
  crc32,
  generateCorpus,
  makeTempDir,
  removeTempDir,
  seededBytes,
  tinyPng,
  writePreview,
  writeSafetensors,
} from './corpus-builder.js';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('corpus-spec-');
});
afterAll(async () => {
  await removeTempDir(dir);
});

/** Minimal independent safetensors parser for checking the builder's output. */
function parse(bytes: Buffer): {
  n: number;
  header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> & {
    __metadata__?: Record<string, string>;
  };
} {
  const n = Number(bytes.readBigUInt64LE(0));
  return { n, header: JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) };
}

describe(buildSafetensors.name, () => {
  it('should write a real safetensors layout: u64 LE length, space-padded JSON to 8 bytes, contiguous data to the end', async () => {
    const w = await writeSafetensors(join(dir, 'a.safetensors'), {
      metadata: { ss_output_name: 'a' },
      tensors: [
        { name: 'x', dtype: 'F32', shape: [3, 5] },
        { name: 'y', dtype: 'BF16', shape: [7] },
      ],
    });
    const bytes = await readFile(w.path);
    const { n, header } = parse(bytes);
    expect(n % 8).toBe(0);
    expect(n).toBe(w.headerLength);
    expect(bytes.subarray(8, 8 + n).toString('utf8')).toMatch(/^\{.*\} *$/);
    expect(header.__metadata__).toEqual({ ss_output_name: 'a' });
    expect(header['x']).toEqual({ dtype: 'F32', shape: [3, 5], data_offsets: [0, 60] });
    expect(header['y']).toEqual({ dtype: 'BF16', shape: [7], data_offsets: [60, 74] });
    expect(bytes.length).toBe(8 + n + 74);
    expect(w.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(w.tensorSha256).toBe(
      createHash('sha256')
        .update(bytes.subarray(8 + n))
        .digest('hex'),
    );
  });

  it('should make data deterministic from the seed, so duplicates can be made on purpose', () => {
    expect(buildSafetensors({ seed: 's' }).sha256).toBe(buildSafetensors({ seed: 's' }).sha256);
    expect(buildSafetensors({ seed: 's' }).sha256).not.toBe(buildSafetensors({ seed: 't' }).sha256);
    expect(buildSafetensors({ seed: 's', metadata: { a: '1' } }).tensorSha256).toBe(
      buildSafetensors({ seed: 's', metadata: { b: '2' } }).tensorSha256,
    );
    expect(seededBytes(10, 42).equals(seededBytes(10, 42))).toBe(true);
  });

  it('should build the broken variants on request', () => {
    const ok = buildSafetensors();
    expect(buildSafetensors({ truncateBy: 5 }).size).toBe(ok.size - 5);
    expect(buildSafetensors({ trailingBytes: 3 }).size).toBe(ok.size + 3);
    expect(buildSafetensors({ declaredHeaderLength: 7 }).bytes.readBigUInt64LE(0)).toBe(7n);
    expect(buildSafetensors({ rawHeader: '{"x"', tensors: [] }).bytes.subarray(8).toString()).toBe('{"x"');
  });
});

describe(writePreview.name, () => {
  it('should write a valid PNG (signature, chunk CRCs, 1×1 RGB pixel data)', () => {
    const png = tinyPng(2, 3, [1, 2, 3]);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    let off = 8;
    const chunks: string[] = [];
    while (off < png.length) {
      const len = png.readUInt32BE(off);
      const type = png.subarray(off + 4, off + 8).toString('ascii');
      const data = png.subarray(off + 8, off + 8 + len);
      expect(png.readUInt32BE(off + 8 + len)).toBe(crc32(png.subarray(off + 4, off + 8 + len)));
      if (type === 'IHDR') expect([data.readUInt32BE(0), data.readUInt32BE(4), data[8], data[9]]).toEqual([2, 3, 8, 2]);
      if (type === 'IDAT') expect(inflateSync(data).length).toBe(3 * (1 + 2 * 3));
      chunks.push(type);
      off += 12 + len;
    }
    expect(chunks).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('should write JPEG or PNG by extension', async () => {
    const jpg = await writePreview(join(dir, 'p.jpg'));
    expect(jpg).toBe(TINY_JPEG);
    expect(jpg.subarray(0, 3).toString('hex')).toBe('ffd8ff');
    expect(jpg.subarray(-2).toString('hex')).toBe('ffd9');
    expect((await readFile(join(dir, 'p.jpg'))).equals(TINY_JPEG)).toBe(true);
    expect((await writePreview(join(dir, 'p.png'))).subarray(1, 4).toString()).toBe('PNG');
  });
});

describe(buildCorpus.name, () => {
  it('should write adapters with sidecars built from the real file, plus files and symlinks', async () => {
    const root = join(dir, 'corpus');
    const m = await buildCorpus(root, {
      adapters: [
        {
          relPath: 'sub/x.safetensors',
          civitaiInfo: (f) => ({ id: 1, modelId: 2, files: [{ name: f.name, sha256: f.sha256 }] }),
          loraManager: (f) => ({ modelName: 'X', sha256: f.sha256 }),
          cmInfo: { modelId: 2 },
          swarm: {},
          a1111: { activationText: 'x' },
          description: 'desc',
          preview: { infix: '.preview', ext: 'jpg' },
        },
        { relPath: 'sub/y.safetensors', sdnext: { id: 3, name: 'Y', versions: [] } },
      ],
      files: [{ relPath: 'junk.txt', content: 'junk' }],
      symlinks: [{ relPath: 'ln', target: 'sub' }],
    });
    expect((await readdir(join(root, 'sub'))).sort()).toEqual(
      [
        'x.safetensors',
        'x.civitai.info',
        'x.json',
        'x.metadata.json',
        'x.cm-info.json',
        'x.swarm.json',
        'x.txt',
        'x.preview.jpg',
        'y.safetensors',
        'y.json',
      ].sort(),
    );
    const x = m.adapters[0];
    const info = JSON.parse(await readFile(join(root, 'sub/x.civitai.info'), 'utf8'));
    expect(info.files[0].hashes.SHA256).toBe(x.sha256.toUpperCase());
    expect(JSON.parse(await readFile(join(root, 'sub/y.json'), 'utf8')).modelVersions).toEqual([]);
    expect(await readlink(join(root, 'ln'))).toBe('sub');
    await expect(
      buildCorpus(join(dir, 'bad'), {
        adapters: [{ relPath: 'z.safetensors', a1111: {}, sdnext: { id: 1, name: 'z', versions: [] } }],
      }),
    ).rejects.toThrow(/share <stem>.json/);
  });

  it('should build the edge-case corpus', async () => {
    const root = join(dir, 'edge');
    const m = await buildEdgeCaseCorpus(root);
    expect((await lstat(join(root, EDGE_CASES.zeroByte))).size).toBe(0);
    expect((await lstat(join(root, EDGE_CASES.symlinkLoop))).isSymbolicLink()).toBe(true);
    const a = m.adapters.find((x) => x.relPath === EDGE_CASES.duplicateA)!;
    const b = m.adapters.find((x) => x.relPath === EDGE_CASES.duplicateB)!;
    expect(a.sha256).toBe(b.sha256);
    const sa = m.adapters.find((x) => x.relPath === EDGE_CASES.sameStemA)!;
    const sb = m.adapters.find((x) => x.relPath === EDGE_CASES.sameStemB)!;
    expect(sa.sha256).not.toBe(sb.sha256);
    expect(await readFile(join(root, EDGE_CASES.unicode))).toHaveLength(
      m.adapters.find((x) => x.relPath === EDGE_CASES.unicode)!.size,
    );
  });
});

describe(generateCorpus.name, () => {
  it('should write N adapters deterministically with rotating sidecars', async () => {
    const t0 = performance.now();
    const g = await generateCorpus(join(dir, 'gen'), 400, { perDir: 50, duplicateEvery: 100 });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(g.files).toHaveLength(400);
    expect((await readdir(join(dir, 'gen'))).length).toBe(8);
    expect(new Set(g.files.map((f) => f.sidecar))).toEqual(new Set(SIDECAR_ROTATION));
    expect(g.files[100].sha256).toBe(g.files[99].sha256);
    expect(g.files[101].sha256).not.toBe(g.files[100].sha256);
    const d0 = await readdir(join(dir, 'gen', 'd0000'));
    expect(d0).toEqual(
      expect.arrayContaining([
        'lora_00001.civitai.info',
        'lora_00002.json',
        'lora_00003.json',
        'lora_00004.metadata.json',
        'lora_00005.cm-info.json',
        'lora_00006.swarm.json',
        'lora_00000.preview.png',
      ]),
    );
    const again = await generateCorpus(join(dir, 'gen2'), 20, { perDir: 50 });
    const first = await generateCorpus(join(dir, 'gen3'), 20, { perDir: 50 });
    expect(again.files.map((f) => f.sha256)).toEqual(first.files.map((f) => f.sha256));
  });
});
