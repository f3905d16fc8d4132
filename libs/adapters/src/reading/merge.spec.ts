import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import {
  a1111Json,
  civitaiModelJson,
  civitaiVersionJson,
  cmInfoJson,
  loraManagerJson,
  makeTempDir,
  removeTempDir,
  swarmJson,
  tinyPngDataUrl,
  writeSafetensors,
  type WrittenSafetensors,
} from '../../../../test/support/corpus-builder.js';
import { BaseModel, BaseModelSource } from './base-model.js';
import { SidecarKind, type SidecarContext, type SidecarFacts } from './facts.js';
import { hashFile, type FileHashes } from './hasher.js';
import { LoraKind } from './lora-kind.js';
import { CivitaiLookupState, FactOrigin, PreviewSource, mergeFacts } from './merge.js';
import { readSafetensorsHeader, type SafetensorsHeader } from './safetensors-header.js';
import { readA1111Json } from './sidecar-a1111.js';
import { readCivitaiInfo } from './sidecar-civitai-info.js';
import { readCmInfo } from './sidecar-cm-info.js';
import { readLoraManagerMetadata } from './sidecar-lora-manager.js';
import { readSdnextJson } from './sidecar-sdnext.js';
import { readSwarmJson } from './sidecar-swarm.js';
import { parseSidecar } from './sidecars.js';

let dir: string;
let lora: WrittenSafetensors;
let header: SafetensorsHeader;
let hashes: FileHashes;
let ctx: SidecarContext;

const BLAKE = '8345ec8e0af2dc219f3fcfa42f8089a70131e4e4d7927f56b76370432ee7416c';
const OTHER_SHA = 'ab'.repeat(32);

beforeAll(async () => {
  dir = await makeTempDir('merge-');
  lora = await writeSafetensors(join(dir, 'my_style_v1.safetensors'), {
    seed: 'merge',
    metadata: {
      ss_output_name: 'my_style_v1',
      ss_base_model_version: 'sdxl_base_v1-0',
      ss_network_module: 'networks.lora',
      ss_network_dim: '32',
      ss_network_alpha: '16.0',
      ss_tag_frequency: JSON.stringify({ '10_mystyle': { mystyle: 120, painterly: 85 } }),
      ss_training_started_at: '1709287200',
      'modelspec.description': 'header description',
      'modelspec.author': 'header_author',
      'modelspec.tags': 'hdr1, hdr2',
      'modelspec.trigger_phrase': 'hdrtrigger',
      'modelspec.lora_default_weight': '0.6',
      'modelspec.license': 'CreativeML OpenRAIL++-M',
    },
  });
  header = await readSafetensorsHeader(lora.path);
  hashes = await hashFile(lora.path, { headerLength: header.headerLength });
  ctx = { fileName: lora.name, sha256: hashes.sha256, tensorSha256: hashes.tensorSha256, size: lora.size };
});
afterAll(async () => {
  await removeTempDir(dir);
});

const version = (over: Record<string, unknown> = {}) =>
  civitaiVersionJson({
    id: 345678,
    modelId: 123456,
    baseModel: 'Pony',
    trainedWords: ['civtrigger'],
    nsfwLevel: 1,
    model: { name: 'Civitai Name', type: 'LORA' },
    files: [{ name: 'my_style_v1.safetensors', sha256: lora.sha256, blake3: BLAKE, crc32: '8b12116a' }],
    images: [{ url: 'https://image.civitai.com/p.jpeg', nsfwLevel: 2 }],
    extra: over,
  });

describe(mergeFacts.name, () => {
  it('should fall back to the header, then the file name, when there are no sidecars', () => {
    const f = mergeFacts(header, [], hashes, { fileName: lora.name });
    expect(f).toMatchObject({
      name: 'my_style_v1',
      description: 'header description',
      creator: 'header_author',
      tags: ['hdr1', 'hdr2'],
      trainedWords: ['hdrtrigger'],
      preferredWeight: 0.6,
      baseModel: BaseModel.Sdxl10,
      modelType: 'LORA',
      loraKind: LoraKind.LoRA,
      license: { license: 'CreativeML OpenRAIL++-M' },
      trainedAt: '2024-03-01T10:00:00.000Z',
      civitai: { lookup: CivitaiLookupState.Unknown },
      triggerSuggestions: [
        { tag: 'mystyle', count: 120 },
        { tag: 'painterly', count: 85 },
      ],
      header: {
        headerLength: header.headerLength,
        dataOffset: header.dataOffset,
        tensorCount: 3,
        networkModule: 'networks.lora',
        networkDim: 32,
        networkAlpha: 16,
      },
      sha256Verified: true,
    });
    expect(f.fieldSources).toMatchObject({
      name: FactOrigin.Header,
      description: FactOrigin.Header,
      baseModel: FactOrigin.Header,
      modelType: FactOrigin.Header,
    });
    expect(f.headerMetadata['ss_network_dim']).toBe('32');
    expect(f.hashes).toEqual({
      sha256: hashes.sha256,
      autoV2: hashes.autoV2,
      autoV1: hashes.autoV1,
      tensorSha256: hashes.tensorSha256,
      autoV3: hashes.autoV3,
    });

    const bare = mergeFacts(null, [], null, { fileName: 'bare.file.safetensors' });
    expect(bare).toMatchObject({
      name: 'bare.file',
      baseModel: BaseModel.Unknown,
      loraKind: LoraKind.Unknown,
      sha256Verified: false,
      tags: [],
      trainedWords: [],
    });
    expect(bare.fieldSources['name']).toBe(FactOrigin.FileName);
  });

  it('should apply the sidecar precedence .metadata.json → .cm-info.json → .civitai.info → A1111 .json → header', () => {
    const lm = readLoraManagerMetadata(loraManagerJson({ modelName: 'LM Name', sha256: lora.sha256 }), ctx);
    const cm = readCmInfo(
      cmInfoJson({ modelName: 'CM Name', sha256: lora.sha256, blake3: BLAKE, trainedWords: ['cmtrigger'] }),
      ctx,
    );
    const civ = readCivitaiInfo(version(), ctx);
    const a1 = readA1111Json(
      a1111Json({ activationText: 'a1trigger', preferredWeight: 0.9, description: 'a1 description', sdVersion: 'SD1' }),
      ctx,
    );
    // Given in reverse order on purpose.
    const f = mergeFacts(header, [a1, civ, cm, lm], hashes, { fileName: lora.name });
    expect(f.name).toBe('LM Name');
    expect(f.fieldSources['name']).toBe(SidecarKind.LoraManagerMetadata);
    expect(f.trainedWords).toEqual(['cmtrigger']);
    expect(f.fieldSources['trainedWords']).toBe(SidecarKind.CmInfo);
    expect(f.preferredWeight).toBe(0.9);
    expect(f.fieldSources['preferredWeight']).toBe(SidecarKind.A1111Json);
    expect(f.activationText).toBe('a1trigger');
    // Civitai-spelled values beat A1111's coarse hint and the header.
    expect(f.baseModelInfo).toMatchObject({ value: BaseModel.Sdxl10, source: BaseModelSource.Civitai });
    expect(f.fieldSources['baseModel']).toBe(SidecarKind.CmInfo);
    expect(f.civitai).toMatchObject({ modelId: 123456, versionId: 345678, lookup: CivitaiLookupState.Found });
    expect(f.sidecars.map((s) => s.kind)).toEqual([
      SidecarKind.LoraManagerMetadata,
      SidecarKind.CmInfo,
      SidecarKind.CivitaiInfo,
      SidecarKind.A1111Json,
    ]);
    expect(f.hashes.blake3).toBe(BLAKE);
    expect(f.hashSources).toMatchObject({
      sha256: FactOrigin.Computed,
      blake3: SidecarKind.CmInfo,
      crc32: SidecarKind.CivitaiInfo,
    });
    expect(f.unmapped[SidecarKind.LoraManagerMetadata]).toMatchObject({ file_path: '/data/loras/LM Name.safetensors' });
  });

  it("should let the file win over a sidecar whose SHA256 differs, with a warning, and drop that sidecar's whole-file hashes", () => {
    const stale = readCmInfo(cmInfoJson({ sha256: OTHER_SHA, blake3: BLAKE, crc32: '8b12116a' }), ctx);
    const f = mergeFacts(header, [stale], hashes, { fileName: lora.name });
    expect(f.hashes.sha256).toBe(hashes.sha256);
    expect(f.hashes.blake3).toBeUndefined();
    expect(f.hashes.crc32).toBeUndefined();
    expect(f.primaryFile).toBeUndefined();
    expect(f.warnings.join('\n')).toMatch(
      new RegExp(`cm-info: SHA256 ${OTHER_SHA} differs from the file's ${hashes.sha256}; the file wins`),
    );
    // The sidecar's other facts still count.
    expect(f.name).toBe('My Painterly Style');
  });

  it('should say when only the header differs (same tensor hash)', () => {
    const lm = readLoraManagerMetadata(
      loraManagerJson({ modelName: 'x', sha256: OTHER_SHA, autov3: hashes.tensorSha256 }),
      ctx,
    );
    const f = mergeFacts(header, [lm], hashes);
    expect(f.warnings.join('\n')).toMatch(/same tensor hash: only the header differs/);
  });

  it('should warn about an AutoV3 that contradicts the computed tensor hash', () => {
    const sw = readSwarmJson(swarmJson({ hashSha256: 'cd'.repeat(32) }), ctx);
    const f = mergeFacts(header, [sw], hashes);
    expect(f.hashes.autoV3).toBe(hashes.autoV3);
    expect(f.warnings.join('\n')).toMatch(/swarm-json: AutoV3 cdcdcdcdcdcd differs/);
  });

  it('should take claimed hashes unverified when nothing was computed, header tensor hash first', () => {
    const tensor = 'ef'.repeat(32);
    const h2 = { ...header, metadata: { ...header.metadata, sshs_model_hash: tensor } };
    const civ = readCivitaiInfo(version(), { fileName: lora.name });
    const f = mergeFacts(h2, [civ], undefined);
    expect(f.sha256Verified).toBe(false);
    expect(f.hashes).toMatchObject({
      sha256: lora.sha256,
      autoV2: lora.sha256.slice(0, 10),
      tensorSha256: tensor,
      autoV3: tensor.slice(0, 12),
      blake3: BLAKE,
    });
    expect(f.hashSources).toMatchObject({ sha256: SidecarKind.CivitaiInfo, tensorSha256: FactOrigin.Header });
  });

  it('should flag a stale header tensor hash', () => {
    const h2 = { ...header, metadata: { ...header.metadata, sshs_model_hash: 'ef'.repeat(32) } };
    const f = mergeFacts(h2, [], hashes);
    expect(f.hashes.tensorSha256).toBe(hashes.tensorSha256);
    expect(f.warnings.join('\n')).toMatch(/sshs_model_hash .* is stale/);
  });

  it('should record a {} civitai.info as a negative lookup, and warn on conflicting version ids', () => {
    const neg = readCivitaiInfo({}, ctx);
    expect(mergeFacts(header, [neg], hashes).civitai).toEqual({ lookup: CivitaiLookupState.NotFound });
    const a1 = readA1111Json(a1111Json({ modelId: 123456, modelVersionId: 999 }), ctx);
    const civ = readCivitaiInfo(version(), ctx);
    const f = mergeFacts(header, [neg, a1, civ], hashes);
    expect(f.civitai).toMatchObject({ lookup: CivitaiLookupState.Found, versionId: 345678 });
    expect(f.warnings.join('\n')).toMatch(/a1111-json: Civitai version 999 differs from 345678/);
  });

  it('should use the model-level data of an SD.Next .json and pick nsfw/license/stats from it', () => {
    const sd = readSdnextJson(
      civitaiModelJson({
        id: 123456,
        name: 'SD.Next Name',
        tags: ['t1'],
        creator: 'artist',
        versions: [{ id: 345678, baseModel: 'Illustrious', files: [{ name: lora.name, sha256: lora.sha256 }] }],
      }),
      ctx,
    );
    const f = mergeFacts(header, [sd], hashes);
    expect(f).toMatchObject({
      name: 'SD.Next Name',
      tags: ['t1'],
      creator: 'artist',
      baseModel: BaseModel.Illustrious,
      nsfw: false,
      license: { allowNoCredit: true },
    });
    // Illustrious is an SDXL derivative: no disagreement with the header's SDXL.
    expect(f.warnings.join('\n')).not.toMatch(/disagrees/);
  });

  it('should warn when the Civitai base model is of another family than the header', () => {
    const civ = readCivitaiInfo(version({ baseModel: 'SD 1.5' }), ctx);
    expect(mergeFacts(header, [civ], hashes).warnings.join('\n')).toMatch(
      /SD 1.5 \(civitai-info\) disagrees with the header's SDXL 1.0/,
    );
    const pony = readCivitaiInfo(version(), ctx);
    expect(mergeFacts(header, [pony], hashes).warnings.join('\n')).not.toMatch(/disagrees/);
  });

  it('should say when the base model is a guess, ambiguous or outside the vocabulary, and only then', () => {
    const warningsWith = (metadata: Record<string, string>, sidecars: SidecarFacts[] = []) =>
      mergeFacts({ ...header, metadata }, sidecars, hashes).warnings.filter((w) => w.startsWith('Base model'));
    expect(
      warningsWith({ ss_base_model_version: 'sdxl_base_v1-0', ss_sd_model_name: 'ponyDiffusionV6XL_v6.safetensors' }),
    ).toEqual([expect.stringMatching(/^Base model Pony is a guess \(/)]);
    expect(warningsWith({ ss_v2: 'True' })).toEqual([expect.stringMatching(/^Base model SD 2\.1 may be a variant/)]);
    expect(warningsWith({}, [readCivitaiInfo(version({ baseModel: 'Brand New 9' }), ctx)])).toEqual([
      'Base model "Brand New 9" is not in the vocabulary; kept as given',
    ]);
    expect(warningsWith({}, [readCivitaiInfo(version({ baseModel: 'SDXL 1.0' }), ctx)])).toEqual([]);
    expect(warningsWith({})).toEqual([]);
  });

  it("should use SwarmUI's architecture when nothing else names a base model", () => {
    const bare = { ...header, metadata: {} };
    const sw = readSwarmJson(swarmJson({ architecture: 'flux-1-schnell/lora' }), ctx);
    const f = mergeFacts(bare, [sw], hashes);
    expect(f.baseModel).toBe(BaseModel.Flux1S);
    expect(f.fieldSources['baseModel']).toBe(SidecarKind.SwarmJson);
  });

  it('should turn an old boolean nsfw into a level when no sidecar gives one', () => {
    const old = (nsfw: boolean) =>
      readCivitaiInfo(civitaiVersionJson({ id: 5, modelId: 6, model: { name: 'old', nsfw } }), ctx);
    expect(mergeFacts(header, [old(false)], hashes)).toMatchObject({ nsfwLevel: 1, nsfw: false });
    expect(mergeFacts(header, [old(true)], hashes)).toMatchObject({ nsfwLevel: 12, nsfw: true });
  });

  it('should choose the preview: file, then embedded, then remote with its nsfw level', () => {
    const civ = readCivitaiInfo(version(), ctx);
    const withFile = mergeFacts(header, [civ], hashes, {
      preview: { path: '/lib/my_style_v1.preview.png', contentType: 'image/png' },
    });
    expect(withFile.preview).toEqual({
      source: PreviewSource.File,
      path: '/lib/my_style_v1.preview.png',
      contentType: 'image/png',
    });
    expect(withFile.previewPath).toBe('/lib/my_style_v1.preview.png');

    const embedded = {
      ...header,
      embeddedImages: [
        {
          key: 'modelspec.thumbnail',
          contentType: 'image/png',
          chars: tinyPngDataUrl().length,
          oversized: false,
          usable: true,
        },
      ],
    };
    expect(mergeFacts(embedded, [civ], hashes).preview).toEqual({
      source: PreviewSource.Embedded,
      key: 'modelspec.thumbnail',
      contentType: 'image/png',
    });

    const remote = mergeFacts(header, [civ], hashes);
    expect(remote.preview).toEqual({
      source: PreviewSource.Remote,
      url: 'https://image.civitai.com/p.jpeg',
      nsfwLevel: 2,
    });
    expect(remote.previewPath).toBeUndefined();
    expect(remote.images).toHaveLength(1);
  });

  it('should prefix sidecar and header warnings with their source', () => {
    const civ = parseSidecar(
      SidecarKind.CivitaiInfo,
      civitaiVersionJson({ id: 1, files: [{ name: 'nomatch.safetensors', sha256: OTHER_SHA, primary: true }] }),
      ctx,
    );
    const h2 = { ...header, warnings: ['odd tensor'] };
    const f = mergeFacts(h2, [civ], hashes);
    expect(f.warnings[0]).toBe('header: odd tensor');
    expect(f.warnings[1]).toMatch(/^civitai-info: No file of version 1 matches/);
  });
});
