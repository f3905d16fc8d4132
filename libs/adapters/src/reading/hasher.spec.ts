import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeTempDir, seededBytes, writeSafetensors } from '../../../../test/support/corpus-builder.js';
import { EMPTY_SHA256, HeaderHashSource, MIN_CHUNK_BYTES, autoV3FromHeader, hashFile } from './hasher.js';
import { readSafetensorsHeader } from './safetensors-header.js';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('hasher-');
});
afterAll(async () => {
  await removeTempDir(dir);
});

/** Independent reference: node:crypto over the whole file's bytes. */
async function reference(path: string): Promise<{ sha256: string; tensor: string; autoV1: string }> {
  const bytes = await readFile(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  return {
    sha256: sha(bytes),
    tensor: sha(bytes.subarray(8 + n)),
    autoV1: sha(bytes.subarray(0x100000, 0x110000)).slice(0, 8),
  };
}

describe(hashFile.name, () => {
  it('should compute SHA256, AutoV2, tensor hash and AutoV3 of a small file in lower case', async () => {
    const w = await writeSafetensors(join(dir, 'small.safetensors'), {
      metadata: { ss_output_name: 'small' },
      seed: 7,
    });
    const ref = await reference(w.path);
    const h = await hashFile(w.path);
    expect(h.sha256).toBe(ref.sha256);
    expect(h.autoV2).toBe(ref.sha256.slice(0, 10));
    expect(h.tensorSha256).toBe(ref.tensor);
    expect(h.autoV3).toBe(ref.tensor.slice(0, 12));
    expect(h.headerLength).toBe(w.headerLength);
    expect(h.size).toBe(w.size);
    expect(h.sha256).toMatch(/^[0-9a-f]{64}$/);
    // Under 1 MiB there is nothing at offset 1 MiB: AutoV1 is the hash of empty input.
    expect(h.autoV1).toBe(EMPTY_SHA256.slice(0, 8));
  });

  it('should hash across chunk boundaries, including a header longer than one chunk, identically to a whole-buffer hash', async () => {
    const cases = [
      { name: 'multi.safetensors', meta: { a: 'b' }, elems: 1_800_000 },
      {
        name: 'bigheader.safetensors',
        meta: { 'modelspec.description': 'd'.repeat(MIN_CHUNK_BYTES + 12345) },
        elems: 700_000,
      },
    ];
    for (const c of cases) {
      const w = await writeSafetensors(join(dir, c.name), {
        metadata: c.meta,
        tensors: [{ name: 'w.lora_down.weight', dtype: 'F16', shape: [c.elems] }],
        seed: c.name,
      });
      const ref = await reference(w.path);
      for (const chunkBytes of [MIN_CHUNK_BYTES, 3 * MIN_CHUNK_BYTES + 17, 64 << 20]) {
        const h = await hashFile(w.path, { chunkBytes });
        expect(h.sha256).toBe(ref.sha256);
        expect(h.tensorSha256).toBe(ref.tensor);
        expect(h.autoV1).toBe(ref.autoV1);
      }
    }
  });

  it('should use a given header length, and agree with the one it reads itself', async () => {
    const w = await writeSafetensors(join(dir, 'given.safetensors'), { metadata: { x: 'y' } });
    const header = await readSafetensorsHeader(w.path);
    const given = await hashFile(w.path, { headerLength: header.headerLength });
    const derived = await hashFile(w.path);
    expect(given).toEqual(derived);
  });

  it('should skip the tensor hash when asked or when the prefix is not a usable header length', async () => {
    const w = await writeSafetensors(join(dir, 'skip.safetensors'));
    const h = await hashFile(w.path, { tensorHash: false });
    expect(h.tensorSha256).toBeUndefined();
    expect(h.autoV3).toBeUndefined();

    const junk = join(dir, 'junk.bin');
    const bytes = seededBytes(5000, 'junk');
    bytes.writeBigUInt64LE(10_000_000n, 0);
    await writeFile(junk, bytes);
    const j = await hashFile(junk);
    expect(j.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(j.tensorSha256).toBeUndefined();

    const empty = join(dir, 'empty.safetensors');
    await writeFile(empty, Buffer.alloc(0));
    expect(await hashFile(empty)).toEqual({
      size: 0,
      sha256: EMPTY_SHA256,
      autoV2: EMPTY_SHA256.slice(0, 10),
      autoV1: EMPTY_SHA256.slice(0, 8),
    });
  });

  it('should keep the tensor hash when only the header changes, while the SHA256 changes', async () => {
    const a = await writeSafetensors(join(dir, 'edit-a.safetensors'), {
      metadata: { 'modelspec.title': 'Before' },
      seed: 'same',
    });
    const b = await writeSafetensors(join(dir, 'edit-b.safetensors'), {
      metadata: { 'modelspec.title': 'After, longer title' },
      seed: 'same',
    });
    const [ha, hb] = await Promise.all([hashFile(a.path), hashFile(b.path)]);
    expect(ha.sha256).not.toBe(hb.sha256);
    expect(ha.tensorSha256).toBe(hb.tensorSha256);
  });

  it('should report progress and honour an abort signal', async () => {
    const w = await writeSafetensors(join(dir, 'progress.safetensors'), {
      tensors: [{ name: 'w', dtype: 'U8', shape: [3 * MIN_CHUNK_BYTES] }],
    });
    const seen: number[] = [];
    await hashFile(w.path, { chunkBytes: MIN_CHUNK_BYTES, onProgress: (done) => seen.push(done) });
    expect(seen).toHaveLength(4);
    expect(seen[seen.length - 1]).toBe(w.size);
    const ctrl = new AbortController();
    ctrl.abort();
    await expect(hashFile(w.path, { signal: ctrl.signal })).rejects.toThrow();
  });
});

describe(autoV3FromHeader.name, () => {
  const full = '4c95f48482c699f7ba1affcc4c85f9b9e97428605ab311a17c2570d58c97c3ae';

  it('should read sshs_model_hash, then modelspec.hash_sha256 without its 0x prefix', () => {
    expect(autoV3FromHeader({ sshs_model_hash: full.toUpperCase() })).toEqual({
      tensorSha256: full,
      autoV3: '4c95f48482c6',
      source: HeaderHashSource.SshsModelHash,
    });
    expect(autoV3FromHeader({ 'modelspec.hash_sha256': `0x${full}` })).toEqual({
      tensorSha256: full,
      autoV3: '4c95f48482c6',
      source: HeaderHashSource.ModelspecHashSha256,
    });
  });

  it('should ignore the empty-input placeholder and malformed values', () => {
    expect(autoV3FromHeader({ sshs_model_hash: EMPTY_SHA256 })).toBeUndefined();
    expect(autoV3FromHeader({ sshs_model_hash: EMPTY_SHA256, 'modelspec.hash_sha256': `0x${full}` })?.source).toBe(
      HeaderHashSource.ModelspecHashSha256,
    );
    expect(autoV3FromHeader({ sshs_model_hash: 'abc' })).toBeUndefined();
    expect(autoV3FromHeader({ sshs_model_hash: 'z'.repeat(64) })).toBeUndefined();
    expect(autoV3FromHeader({})).toBeUndefined();
  });

  it('should equal the computed tensor hash when kohya wrote it', async () => {
    const probe = await writeSafetensors(join(dir, 'probe.safetensors'), { seed: 'kohya' });
    const w = await writeSafetensors(join(dir, 'kohya.safetensors'), {
      seed: 'kohya',
      metadata: { sshs_model_hash: probe.tensorSha256 },
    });
    const h = await hashFile(w.path);
    expect(autoV3FromHeader((await readSafetensorsHeader(w.path)).metadata)?.tensorSha256).toBe(h.tensorSha256);
  });
});
