import { describe, expect, it } from '@jest/globals';
import { matchCivitaiFile, parseCivitaiFile, parseHashes, parseImages, parseLicense } from './civitai.js';
import { MatchEvidence, MatchStrength, type SidecarFileEntry } from './facts.js';
import { NsfwLevel, combineNsfwLevels, isNsfwLevel, toNsfwLevel } from './nsfw.js';

const SHA = 'c8cc6e447600acbe0b20dc485d1da93c71a36fb7cb8e95a886b4c15574401e13';
const TENSOR = '4c95f48482c699f7ba1affcc4c85f9b9e97428605ab311a17c2570d58c97c3ae';
const OTHER = 'ab'.repeat(32);
const BLAKE = '8345ec8e0af2dc219f3fcfa42f8089a70131e4e4d7927f56b76370432ee7416c';

const f = (x: Partial<SidecarFileEntry> & { hashes?: SidecarFileEntry['hashes'] }): SidecarFileEntry => ({
  hashes: {},
  ...x,
});

describe(matchCivitaiFile.name, () => {
  const ctx = { fileName: 'my_style_v1.safetensors', sha256: SHA.toUpperCase(), tensorSha256: TENSOR, size: 228452342 };

  it('should match by full SHA256 first, case-insensitively, across versions', () => {
    const versions = [
      { files: [f({ name: 'my_style_v1.safetensors', hashes: { sha256: OTHER } })] },
      { files: [f({ name: 'x.safetensors', hashes: { sha256: SHA } })] },
    ];
    expect(matchCivitaiFile(versions, ctx)).toEqual({
      versionIndex: 1,
      fileIndex: 0,
      strength: MatchStrength.Exact,
      by: MatchEvidence.Sha256,
    });
  });

  it('should match by BLAKE3 (exact), AutoV3 and AutoV2 (strong)', () => {
    expect(
      matchCivitaiFile([{ files: [f({ hashes: { blake3: BLAKE } })] }], { fileName: 'a', blake3: BLAKE.toUpperCase() })
        ?.by,
    ).toBe(MatchEvidence.Blake3);
    expect(matchCivitaiFile([{ files: [f({ hashes: { autoV3: TENSOR.slice(0, 12) } })] }], ctx)).toMatchObject({
      strength: MatchStrength.Strong,
      by: MatchEvidence.AutoV3,
    });
    expect(matchCivitaiFile([{ files: [f({ hashes: { autoV2: SHA.slice(0, 10) } })] }], ctx)).toMatchObject({
      strength: MatchStrength.Strong,
      by: MatchEvidence.AutoV2,
    });
  });

  it('should accept CRC32 and AutoV1 only as weak evidence confirmed by size', () => {
    const crc = { fileName: 'a', crc32: '8B12116A', size: 2048 };
    expect(matchCivitaiFile([{ files: [f({ sizeKB: 2, hashes: { crc32: '8b12116a' } })] }], crc)).toMatchObject({
      strength: MatchStrength.Weak,
      by: MatchEvidence.Crc32,
    });
    expect(matchCivitaiFile([{ files: [f({ sizeKB: 9, hashes: { crc32: '8b12116a' } })] }], crc)).toBeUndefined();
    const v1 = { fileName: 'a', autoV1: 'e3b0c442', size: 2048 };
    expect(matchCivitaiFile([{ files: [f({ hashes: { autoV1: 'e3b0c442' } })] }], v1)).toBeUndefined();
    expect(matchCivitaiFile([{ files: [f({ sizeKB: 2, hashes: { autoV1: 'e3b0c442' } })] }], v1)?.by).toBe(
      MatchEvidence.AutoV1,
    );
  });

  it('should fall back to the file name (with, then without extension) at medium strength, weak when size or hash disagree', () => {
    const noHash = { fileName: 'My_Style_V1.safetensors', size: 2048 };
    expect(matchCivitaiFile([{ files: [f({ name: 'my_style_v1.safetensors', sizeKB: 2 })] }], noHash)).toMatchObject({
      strength: MatchStrength.Medium,
      by: MatchEvidence.FileName,
    });
    expect(matchCivitaiFile([{ files: [f({ name: 'my_style_v1.ckpt' })] }], noHash)).toMatchObject({
      strength: MatchStrength.Medium,
      by: MatchEvidence.FileStem,
    });
    expect(matchCivitaiFile([{ files: [f({ name: 'my_style_v1.safetensors', sizeKB: 500 })] }], noHash)?.strength).toBe(
      MatchStrength.Weak,
    );
    const conflict = matchCivitaiFile(
      [{ files: [f({ name: 'my_style_v1.safetensors', hashes: { sha256: OTHER } })] }],
      { fileName: 'my_style_v1.safetensors', sha256: SHA },
    );
    expect(conflict).toMatchObject({ strength: MatchStrength.Weak, hashConflict: true });
  });

  it('should match by size alone as weak, and otherwise find nothing (never the newest version by default)', () => {
    expect(
      matchCivitaiFile([{ files: [f({ name: 'other.safetensors', sizeKB: 2 })] }], {
        fileName: 'a.safetensors',
        size: 2100,
      }),
    ).toMatchObject({
      strength: MatchStrength.Weak,
      by: MatchEvidence.Size,
    });
    expect(
      matchCivitaiFile([{ files: [f({ name: 'other.safetensors', sizeKB: 9 })] }, { files: [] }], {
        fileName: 'a.safetensors',
        size: 2100,
      }),
    ).toBeUndefined();
  });

  it('should ignore files that are not weights', () => {
    const versions = [
      {
        files: [
          f({ name: 'vae.safetensors', type: 'VAE', hashes: { sha256: SHA } }),
          f({ name: 'data.zip', type: 'Training Data', hashes: { sha256: SHA } }),
        ],
      },
    ];
    expect(matchCivitaiFile(versions, ctx)).toBeUndefined();
  });
});

describe('Civitai JSON parsing', () => {
  it('should lower-case hashes, drop malformed ones and accept any key case', () => {
    expect(
      parseHashes({
        SHA256: SHA.toUpperCase(),
        AutoV2: 'C8CC6E4476',
        autov3: '4C95F48482C6',
        CRC32: '8B12116A',
        BLAKE3: 'nothex',
        AutoV1: '79C4C72E',
      }),
    ).toEqual({
      sha256: SHA,
      autoV2: 'c8cc6e4476',
      autoV3: '4c95f48482c6',
      crc32: '8b12116a',
      autoV1: '79c4c72e',
    });
  });

  it('should parse a file entry', () => {
    expect(
      parseCivitaiFile({
        id: 278901,
        name: 'a.safetensors',
        sizeKB: 223097.99,
        type: 'Model',
        primary: true,
        metadata: { format: 'SafeTensor', fp: 'fp16' },
        hashes: {},
        downloadUrl: 'u',
      }),
    ).toEqual({
      id: 278901,
      name: 'a.safetensors',
      sizeKB: 223097.99,
      type: 'Model',
      primary: true,
      format: 'SafeTensor',
      fp: 'fp16',
      hashes: {},
      downloadUrl: 'u',
    });
  });

  it('should read old and new image nsfw fields', () => {
    const imgs = parseImages([
      { url: 'a', nsfwLevel: 4 },
      { url: 'b', nsfw: 'Soft' },
      { url: 'c', nsfw: true },
      { url: 'd', nsfw: false },
      { nsfwLevel: 1 },
      'junk',
    ]);
    // The oldest answers' booleans: false is PG, true is R or X (LORA-FORMATS §9).
    expect(imgs.map((i) => [i.url, i.nsfwLevel])).toEqual([
      ['a', 4],
      ['b', 2],
      ['c', 12],
      ['d', 1],
    ]);
  });

  it('should read license flags in the old string and the new array form', () => {
    expect(parseLicense({ allowCommercialUse: 'Sell', allowNoCredit: true })).toEqual({
      allowCommercialUse: ['Sell'],
      allowNoCredit: true,
    });
    expect(parseLicense({ allowCommercialUse: 'None' })).toEqual({ allowCommercialUse: [] });
    expect(
      parseLicense({
        allowCommercialUse: ['Image', 'RentCivit'],
        allowDerivatives: false,
        allowDifferentLicense: true,
      }),
    ).toEqual({
      allowCommercialUse: ['Image', 'RentCivit'],
      allowDerivatives: false,
      allowDifferentLicense: true,
    });
    expect(parseLicense({})).toBeUndefined();
  });
});

describe(toNsfwLevel.name, () => {
  it('should convert the deprecated string levels per §9', () => {
    expect(['None', 'Soft', 'Mature', 'X', 'Blocked'].map(toNsfwLevel)).toEqual([1, 2, 4, 8, 32]);
    expect(toNsfwLevel('soft')).toBe(NsfwLevel.PG13);
    expect(toNsfwLevel(12)).toBe(12);
    expect(toNsfwLevel('31')).toBe(31);
    expect(toNsfwLevel(64)).toBeUndefined();
    expect(toNsfwLevel(true)).toBeUndefined();
    expect(toNsfwLevel('Spicy')).toBeUndefined();
  });

  it('should OR levels together and classify R and above as NSFW', () => {
    expect(combineNsfwLevels([1, undefined, 2])).toBe(3);
    expect(combineNsfwLevels([undefined])).toBeUndefined();
    expect(isNsfwLevel(3)).toBe(false);
    expect(isNsfwLevel(5)).toBe(true);
  });
});
