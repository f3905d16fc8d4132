import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  EDGE_CASES,
  buildEdgeCaseCorpus,
  buildSafetensors,
  makeTempDir,
  removeTempDir,
  writeAdapter,
} from '../../../../test/support/corpus-builder.js';
import { MatchEvidence, SidecarErrorReason } from './facts.js';
import { inspectAdapterFile } from './inspect-adapter.js';
import { CivitaiLookupState, PreviewSource } from './merge.js';
import { SafetensorsHeaderErrorReason } from './safetensors-header.js';
import { scanRoot, type ScannedFile } from './scanner.js';

let tmp: string;
let files: Map<string, ScannedFile>;

beforeAll(async () => {
  tmp = await makeTempDir('inspect-');
  await buildEdgeCaseCorpus(tmp);
  files = new Map();
  for await (const item of scanRoot(tmp)) if (item.type === 'file') files.set(item.relPath, item);
});
afterAll(async () => {
  await removeTempDir(tmp);
});

describe(inspectAdapterFile.name, () => {
  it('should run header, hashes, sidecars and preview for a scanned file', async () => {
    const r = await inspectAdapterFile(files.get(EDGE_CASES.good)!);
    const bytes = await readFile(join(tmp, EDGE_CASES.good));
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect(r.hashes?.sha256).toBe(sha);
    expect(r.facts).toMatchObject({
      name: 'My Painterly Style',
      civitai: { modelId: 123456, versionId: 345678, lookup: CivitaiLookupState.Found },
      baseModel: 'SDXL 1.0',
      preview: {
        source: PreviewSource.File,
        path: join(tmp, 'good/my_style_v1.preview.png'),
        contentType: 'image/png',
      },
      hashes: { sha256: sha },
      sha256Verified: true,
      primaryFile: { match: { strength: 'exact', by: 'sha256' } },
    });
    expect(r.sidecarErrors).toEqual([]);
  });

  it('should keep going when the header is broken or a sidecar is corrupt', async () => {
    const trunc = await inspectAdapterFile(files.get(EDGE_CASES.truncatedData)!);
    expect(trunc.headerError?.reason).toBe(SafetensorsHeaderErrorReason.DataTruncated);
    expect(trunc.hashes).toBeUndefined();
    expect(trunc.facts.warnings[0]).toMatch(/^header: data_truncated/);
    expect(trunc.facts.name).toBe('truncated_data');

    const truncHashed = await inspectAdapterFile(files.get(EDGE_CASES.truncatedData)!, { hashInvalid: true });
    expect(truncHashed.hashes?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(truncHashed.hashes?.tensorSha256).toBeUndefined();

    const zero = await inspectAdapterFile(files.get(EDGE_CASES.zeroByte)!);
    expect(zero.headerError?.reason).toBe(SafetensorsHeaderErrorReason.FileTooSmall);

    const corrupt = await inspectAdapterFile(files.get(EDGE_CASES.corruptSidecar)!);
    expect(corrupt.header).toBeDefined();
    expect(corrupt.sidecarErrors.map((e) => e.reason)).toEqual([SidecarErrorReason.InvalidJson]);
    expect(corrupt.facts.warnings.join('\n')).toMatch(/corrupt_sidecar.civitai.info: invalid_json/);
  });

  it('should tell same-stem files in two folders apart and see identical content in two places', async () => {
    const [x, y] = await Promise.all([
      inspectAdapterFile(files.get(EDGE_CASES.sameStemA)!),
      inspectAdapterFile(files.get(EDGE_CASES.sameStemB)!),
    ]);
    expect(x.facts.activationText).toBe('x style');
    expect(y.facts.activationText).toBe('y style');
    const [a, b] = await Promise.all([
      inspectAdapterFile(files.get(EDGE_CASES.duplicateA)!),
      inspectAdapterFile(files.get(EDGE_CASES.duplicateB)!),
    ]);
    expect(a.hashes?.sha256).toBe(b.hashes?.sha256);
    expect(a.facts.civitai.lookup).toBe(CivitaiLookupState.Unknown);
    const neg = await inspectAdapterFile(files.get(EDGE_CASES.emptyCivitaiInfo)!);
    expect(neg.facts.civitai.lookup).toBe(CivitaiLookupState.NotFound);
  });

  it('should read names with dots, unicode and spaces, listing the directory itself when not given one', async () => {
    const uni = await inspectAdapterFile({ absPath: join(tmp, EDGE_CASES.unicode) });
    expect(uni.facts.name).toBe('Ünïcødé ✨');
    expect(uni.facts.preview?.contentType).toBe('image/jpeg');
    const dots = await inspectAdapterFile(files.get(EDGE_CASES.dots)!, { hash: false });
    expect(dots.hashes).toBeUndefined();
    expect(dots.facts.description).toBe('dots');
  });

  it('should match an SD.Next model file by the header’s tensor hash when the file itself is not hashed', async () => {
    // A renamed download: its name matches the newest version's file, its weights (per the header's
    // `sshs_model_hash`, whose first 12 hex are Civitai's AutoV3) an older version's.
    const tensorSha256 = buildSafetensors({ seed: 'renamed' }).tensorSha256;
    const file = (id: number, name: string, autoV3: string) => ({ id, name, sizeKB: 1, primary: true, autoV3 });
    await writeAdapter(tmp, {
      relPath: 'sdnext/renamed.safetensors',
      safetensors: { seed: 'renamed', metadata: { sshs_model_hash: tensorSha256 } },
      sdnext: {
        id: 777,
        name: 'Renamed',
        versions: [
          { id: 2, name: 'v2', files: [file(22, 'renamed.safetensors', 'AAAAAAAAAAAA')] },
          { id: 1, name: 'v1', files: [file(11, 'renamed_v1.safetensors', tensorSha256.slice(0, 12))] },
        ],
      },
    });
    const r = await inspectAdapterFile({ absPath: join(tmp, 'sdnext/renamed.safetensors') }, { hash: false });
    expect(r.hashes).toBeUndefined();
    expect(r.facts.civitai).toMatchObject({ modelId: 777, versionId: 1 });
    expect(r.facts.primaryFile?.match).toMatchObject({ strength: 'strong', by: MatchEvidence.AutoV3 });
  });
});
