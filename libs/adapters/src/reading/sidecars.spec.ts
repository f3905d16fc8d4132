import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeTempDir, writeCorruptJson } from '../../../../test/support/corpus-builder.js';
import { SidecarError, SidecarErrorReason, SidecarKind } from './facts.js';
import { findSidecars, indexDirListing, parseSidecar, readSidecar, stemOf } from './sidecars.js';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('sidecars-');
});
afterAll(async () => {
  await removeTempDir(dir);
});

async function readErr(
  path: string,
  kind: Parameters<typeof readSidecar>[1],
  opts?: Parameters<typeof readSidecar>[3],
): Promise<SidecarError> {
  const err = await readSidecar(path, kind, { fileName: 'x.safetensors' }, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SidecarError);
  return err as SidecarError;
}

describe(findSidecars.name, () => {
  const listing = [
    'my_style_v1.safetensors',
    'my_style_v1.civitai.info',
    'my_style_v1.json',
    'my_style_v1.metadata.json',
    'my_style_v1.cm-info.json',
    'my_style_v1.swarm.json',
    'my_style_v1.txt',
    'my_style_v1.description.txt',
    'my_style_v1.preview.png',
    'my_style_v10.safetensors',
    'my_style_v10.json',
    'other.civitai.info',
  ];

  it('should find every sidecar kind by the naming rules of §4, and nothing of similar names', () => {
    expect(findSidecars(listing, 'my_style_v1')).toEqual([
      { kind: SidecarKind.LoraManagerMetadata, fileName: 'my_style_v1.metadata.json' },
      { kind: SidecarKind.CmInfo, fileName: 'my_style_v1.cm-info.json' },
      { kind: SidecarKind.SwarmJson, fileName: 'my_style_v1.swarm.json' },
      { kind: SidecarKind.CivitaiInfo, fileName: 'my_style_v1.civitai.info' },
      { kind: SidecarKind.DescriptionText, fileName: 'my_style_v1.description.txt' },
      { kind: 'json', fileName: 'my_style_v1.json' },
    ]);
    expect(findSidecars(listing, 'my_style_v10')).toEqual([{ kind: 'json', fileName: 'my_style_v10.json' }]);
    expect(findSidecars(listing, 'absent')).toEqual([]);
  });

  it('should not take <stem>.metadata.json for the plain .json of <stem>', () => {
    expect(findSidecars(['a.safetensors', 'a.metadata.json'], 'a')).toEqual([
      { kind: SidecarKind.LoraManagerMetadata, fileName: 'a.metadata.json' },
    ]);
  });

  it('should prefer the exact name and fall back to a case-insensitive one', () => {
    expect(findSidecars(['A.Civitai.Info'], 'a')).toEqual([
      { kind: SidecarKind.CivitaiInfo, fileName: 'A.Civitai.Info' },
    ]);
    expect(findSidecars(['a.civitai.info', 'A.civitai.info'], 'A')).toEqual([
      { kind: SidecarKind.CivitaiInfo, fileName: 'A.civitai.info' },
    ]);
    expect(findSidecars(['A.civitai.info', 'a.civitai.info'], 'a')).toEqual([
      { kind: SidecarKind.CivitaiInfo, fileName: 'a.civitai.info' },
    ]);
  });

  it('should handle dots, spaces and unicode in stems', () => {
    const names = [
      'my.lora.v1.0.safetensors',
      'my.lora.v1.0.json',
      'ünï cødé ✨.safetensors',
      'ünï cødé ✨.civitai.info',
    ];
    expect(findSidecars(names, stemOf('my.lora.v1.0.safetensors'))).toEqual([
      { kind: 'json', fileName: 'my.lora.v1.0.json' },
    ]);
    expect(findSidecars(names, stemOf('ünï cødé ✨.safetensors'))).toEqual([
      { kind: SidecarKind.CivitaiInfo, fileName: 'ünï cødé ✨.civitai.info' },
    ]);
  });

  it('should index a listing array once and reuse it', () => {
    const arr = ['a.json'];
    expect(indexDirListing(arr)).toBe(indexDirListing(arr));
    expect(findSidecars(indexDirListing(arr), 'a')).toHaveLength(1);
  });
});

describe(readSidecar.name, () => {
  it('should report a corrupt JSON file as invalid_json with its path and kind', async () => {
    const p = join(dir, 'corrupt.civitai.info');
    await writeCorruptJson(p);
    const e = await readErr(p, SidecarKind.CivitaiInfo);
    expect(e).toMatchObject({ reason: SidecarErrorReason.InvalidJson, kind: SidecarKind.CivitaiInfo, path: p });
    expect(e.message).toMatch(/not valid JSON/);
  });

  it('should report empty, oversized, missing, non-object and unrecognised files', async () => {
    const empty = join(dir, 'empty.civitai.info');
    await writeFile(empty, '  \n');
    expect((await readErr(empty, SidecarKind.CivitaiInfo)).reason).toBe(SidecarErrorReason.EmptyFile);

    const big = join(dir, 'big.json');
    await writeFile(big, JSON.stringify({ description: 'x'.repeat(200) }));
    expect((await readErr(big, 'json', { maxBytes: 100 })).reason).toBe(SidecarErrorReason.TooLarge);

    const missing = await readErr(join(dir, 'missing.json'), 'json');
    expect(missing.reason).toBe(SidecarErrorReason.Io);
    expect(missing.cause).toMatchObject({ code: 'ENOENT' });

    const arr = join(dir, 'arr.json');
    await writeFile(arr, '[1, 2]');
    expect((await readErr(arr, 'json')).reason).toBe(SidecarErrorReason.NotAnObject);

    const other = join(dir, 'other.json');
    await writeFile(other, JSON.stringify({ some: 'tool', version: 3 }));
    const e = await readErr(other, 'json');
    expect(e).toMatchObject({ reason: SidecarErrorReason.UnrecognisedShape, path: other });
  });

  it('should strip a UTF-8 BOM and record the file stat', async () => {
    const p = join(dir, 'bom.json');
    await writeFile(p, '\ufeff' + JSON.stringify({ description: 'with bom' }));
    const facts = await readSidecar(p, 'json', { fileName: 'bom.safetensors' });
    expect(facts.kind).toBe(SidecarKind.A1111Json);
    expect(facts.description).toBe('with bom');
    expect(facts.file).toMatchObject({ path: p, fileName: 'bom.json' });
    expect(facts.file?.size).toBeGreaterThan(10);
    expect(facts.file?.mtimeMs).toBeGreaterThan(0);
  });

  it('should read a description text file as is', async () => {
    const p = join(dir, 'desc.txt');
    await writeFile(p, '  A description.\n');
    expect((await readSidecar(p, SidecarKind.DescriptionText, { fileName: 'desc.safetensors' })).description).toBe(
      'A description.',
    );
    expect(parseSidecar(SidecarKind.DescriptionText, '', { fileName: 'x' }).description).toBeUndefined();
  });
});
