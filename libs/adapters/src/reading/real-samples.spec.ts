import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildSafetensors, makeTempDir, removeTempDir } from '../../../../test/support/corpus-builder.js';
import { buildAdapterRow } from '../import-runs/adapter-row.js';
import type { AdapterEntity } from '../library/adapter.entity.js';
import { REAL_SAMPLES_DIR } from '../../../../test/support/shared-fixtures.js';
import { inspectAdapterFile } from './inspect-adapter.js';

// Metadata real tools wrote (../shared/fixtures/real-lora-samples, with their sources in SOURCES.md), imported
// next to a small LoRA and checked against what each file says. Skipped where the shared fixtures are absent.

const SAMPLES = REAL_SAMPLES_DIR;

interface Sample {
  /** The sample, relative to the samples folder. */
  file: string;
  /** The LoRA's stem: the name a tool gave the file the sidecar belongs to. */
  stem: string;
  /** The sidecar's suffix after the stem; none for a header dump (it becomes the LoRA's `__metadata__`). */
  suffix?: string;
  expected: Partial<AdapterEntity>;
}

const CHOKE_HOLD = {
  name: '(IL+Pony) Rear Naked Choke / 裸絞め',
  versionName: 'IL_v1.0',
  civitaiModelId: 902206,
  civitaiVersionId: 1421739,
  baseModel: 'Illustrious',
  modelType: 'LORA',
  trainedWords: ['choke hold \\(rnc\\)'],
  nsfwLevel: 16,
  downloads: 3993,
  likes: 668,
  sha256: 'b76a1fc247db893bc8c1290420f0e96b6f86129576a9fb885c20cb7edbefeea5',
  autoV3: '8c0fd69af3d1',
};

const FROGGY = {
  name: 'froggy style',
  versionName: 'toad',
  civitaiModelId: 1244,
  civitaiVersionId: 1318,
  baseModel: 'SD 1.5',
  modelType: 'Checkpoint',
  trainedWords: ['ttdddd'],
  // 2022 answers have only `nsfw: false` on the model and its images: PG, not unrated.
  nsfwLevel: 1,
  nsfwMax: 1,
  downloads: 438,
  sha256: '0df040c8cd48125174b54c251a87822e8ed61d529a92c42c1fa1bef483b10b0d',
};

const SAMPLE_LIST: Sample[] = [
  {
    file: 'civitai-info/choke_hold_rnc_ilxl.civitai.info',
    stem: 'choke_hold_rnc_ilxl',
    suffix: '.civitai.info',
    expected: { ...CHOKE_HOLD, creator: null, publishedAt: new Date('2025-02-16T14:27:25.058Z') },
  },
  {
    file: 'civitai-info/froggyStyle_toad.civitai.info',
    stem: 'froggyStyle_toad',
    suffix: '.civitai.info',
    expected: { ...FROGGY, rating: 5, ratingCount: 1 },
  },
  {
    file: 'civitai-info/empty-not-on-civitai.civitai.info',
    stem: 'unknown_lora',
    suffix: '.civitai.info',
    expected: { civitaiLookup: 'not_found', civitaiVersionId: null, baseModel: 'Unknown', nsfwLevel: 0 },
  },
  {
    file: 'sdnext-json/model_1102.json',
    stem: 'synthwavepunk_v2',
    suffix: '.json',
    expected: {
      name: 'SynthwavePunk',
      versionName: 'V2',
      creator: 'justmaier',
      civitaiModelId: 1102,
      civitaiVersionId: 1144,
      baseModel: 'SD 1.5',
      tags: ['punk', 'synthwave', 'style'],
      trainedWords: ['snthwve style', 'nvinkpunk'],
      // Images with `nsfw: true` (R or X) and `false` (PG): the version holds both.
      nsfwLevel: 13,
      nsfwMax: 8,
      license: {
        allowNoCredit: true,
        allowCommercialUse: ['Sell'],
        allowDerivatives: true,
        allowDifferentLicense: true,
      },
    },
  },
  {
    file: 'sdnext-json/model_1580878.json',
    stem: 'Semi_realistic',
    suffix: '.json',
    expected: {
      name: 'Semi-realistic illustrious',
      versionName: 'v1.5',
      creator: 'alericiviai',
      civitaiModelId: 1580878,
      civitaiVersionId: 1967584,
      baseModel: 'Illustrious',
      modelType: 'LORA',
      trainedWords: ['Srealist'],
      nsfwLevel: 5,
    },
  },
  {
    file: 'sdnext-json/model_36520.json',
    stem: 'ghostmix_v10',
    suffix: '.json',
    expected: {
      name: 'GhostMix',
      civitaiVersionId: 42601,
      baseModel: 'Other',
      nsfwLevel: 7,
      creator: '_GhostInShell_',
    },
  },
  {
    file: 'sdnext-json/model_4201.json',
    stem: 'realisticVisionV60B1_v20Novae',
    suffix: '.json',
    expected: {
      versionName: 'V2.0 (noVAE)',
      civitaiVersionId: 29460,
      baseModel: 'SD 1.5',
      nsfwLevel: 1,
      creator: 'SG_161222',
    },
  },
  {
    file: 'sdnext-json/model_4384.json',
    stem: 'dreamshaper_8LCM',
    suffix: '.json',
    expected: {
      versionName: '8 LCM',
      civitaiVersionId: 252914,
      baseModel: 'SD 1.5 LCM',
      nsfwLevel: 11,
      creator: 'Lykon',
    },
  },
  {
    file: 'sdnext-json/model_7371.json',
    stem: 'revAnimated_v122EOL',
    suffix: '.json',
    expected: {
      versionName: 'v1.2.2-EOL',
      civitaiVersionId: 46846,
      baseModel: 'SD 1.5',
      nsfwLevel: 7,
      creator: 'Zovya',
    },
  },
  {
    file: 'a1111-json/choke_hold_rnc_ilxl.json',
    stem: 'choke_hold_rnc_ilxl',
    suffix: '.json',
    // `sd version: Unknown` (Civitai Helper reads Illustrious's 4th character) and `preferred weight: 0` say nothing.
    expected: { activationText: 'choke hold \\(rnc\\)', baseModel: 'Unknown', preferredWeight: null },
  },
  {
    file: 'a1111-json/froggyStyle_toad.json',
    stem: 'froggyStyle_toad',
    suffix: '.json',
    expected: { activationText: 'ttdddd', trainedWords: ['ttdddd'], baseModel: 'SD 1.5' },
  },
  {
    file: 'a1111-json/civbrowser/Semi-realistic.json',
    stem: 'Semi-realistic',
    suffix: '.json',
    expected: { trainedWords: ['Thigh clothes', 'semi-realistic', 'shiny skin'], baseModel: 'Unknown' },
  },
  {
    file: 'a1111-json/civbrowser/Semi_realistic.json',
    stem: 'Semi_realistic',
    suffix: '.json',
    expected: { trainedWords: ['Srealist'], baseModel: 'Unknown' },
  },
  {
    file: 'a1111-json/civbrowser/dreamshaper_8LCM.json',
    stem: 'dreamshaper_8LCM',
    suffix: '.json',
    expected: { activationText: null, baseModel: 'SD 1.5' },
  },
  {
    file: 'a1111-json/civbrowser/ghostmix_v10.json',
    stem: 'ghostmix_v10',
    suffix: '.json',
    expected: { baseModel: 'Unknown' },
  },
  {
    file: 'a1111-json/civbrowser/realisticVisionV60B1_v20Novae.json',
    stem: 'realisticVisionV60B1_v20Novae',
    suffix: '.json',
    expected: { trainedWords: ['analog style', 'modelshoot style', 'nsfw', 'nudity'], baseModel: 'SD 1.5' },
  },
  {
    file: 'a1111-json/civbrowser/revAnimated_v122EOL.json',
    stem: 'revAnimated_v122EOL',
    suffix: '.json',
    expected: { baseModel: 'SD 1.5' },
  },
  {
    file: 'a1111-json/civbrowser/synthwavepunk_v2.json',
    stem: 'synthwavepunk_v2',
    suffix: '.json',
    expected: { trainedWords: ['snthwve style', 'nvinkpunk'], baseModel: 'SD 1.5' },
  },
  {
    file: 'lora-manager/examples/lora-civitai.metadata.json',
    stem: 'anime_style_lora',
    suffix: '.metadata.json',
    expected: {
      name: 'Anime Style LoRA',
      // `civitai.creator.name`: LoRA-Manager's spelling of Civitai's `creator.username`.
      creator: 'ModelCreator',
      versionName: 'v1.0',
      civitaiModelId: 67890,
      civitaiVersionId: 12345,
      baseModel: 'SDXL 1.0',
      tags: ['anime', 'style', 'cel shading', 'illustration'],
      trainedWords: ['anime style', 'cel shading'],
      preferredWeight: 0.6,
      weightMin: 0.3,
      weightMax: 0.8,
      favorite: true,
      warnings: [],
    },
  },
  {
    file: 'lora-manager/examples/lora-custom.metadata.json',
    stem: 'custom_effect_lora',
    suffix: '.metadata.json',
    expected: {
      name: 'My Custom Effect LoRA',
      baseModel: 'SD 1.5',
      notes: 'Custom trained LoRA for special effects',
      preferredWeight: 0.7,
      trainedWords: ['custom_effect', 'special_fx'],
    },
  },
  {
    file: 'lora-manager/examples/lora-no-triggerwords.metadata.json',
    stem: 'no_triggers_lora',
    suffix: '.metadata.json',
    expected: { name: 'LoRA Without Trigger Words', baseModel: 'SDXL 1.0', trainedWords: [], tags: ['abstract'] },
  },
  {
    file: 'lora-manager/generated/choke_hold_rnc_ilxl.metadata.json',
    stem: 'choke_hold_rnc_ilxl',
    suffix: '.metadata.json',
    expected: CHOKE_HOLD,
  },
  {
    file: 'lora-manager/generated/froggyStyle_toad.metadata.json',
    stem: 'froggyStyle_toad',
    suffix: '.metadata.json',
    expected: FROGGY,
  },
  {
    file: 'kohya/LighthouseConceptLora.metadata.json',
    stem: 'lighthouse',
    expected: {
      name: 'LighthouseConceptLora',
      baseModel: 'SD 1.5',
      baseModelRaw: 'ss_base_model_version=sd_v1',
      warnings: [],
    },
  },
  {
    file: 'kohya/Pepper__Carrot.headerData.json',
    stem: 'pepper',
    expected: {
      name: 'Pepper__Carrot',
      baseModel: 'SDXL 1.0',
      autoV3: '52e53d98fe90',
      warnings: [
        'Base model SDXL 1.0 may be a variant the source cannot tell apart (modelspec.architecture=stable-diffusion-xl-v1-base/lora)',
      ],
    },
  },
  {
    file: 'kohya/Soraka_Classic.metadata.json',
    stem: 'soraka',
    // kohya before SDXL wrote no `ss_base_model_version`; `ss_v2: False` on NovelAI's `animefull` is SD 1.
    expected: {
      name: 'Soraka_Classic',
      baseModel: 'SD 1.5',
      baseModelRaw: 'ss_v2=False; ss_sd_model_name=animefull-final-pruned-fp16.safetensors',
      warnings: [],
    },
  },
];

/** A header dump as the file's `__metadata__`: values the dumping tool parsed go back to JSON text. */
async function headerOf(path: string): Promise<Record<string, string>> {
  const dump = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(dump).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

(SAMPLES ? describe : describe.skip)('real sidecars and headers', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('real-samples-');
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('should cover every sample the folder lists', async () => {
    const files = JSON.parse(await readFile(join(SAMPLES!, 'sources.json'), 'utf8')) as { file: string }[];
    expect(SAMPLE_LIST.map((s) => s.file).sort()).toEqual(files.map((f) => f.file).sort());
  });

  it.each(SAMPLE_LIST)('should import $file as the file says', async (sample) => {
    const folder = join(dir, sample.file.replace(/[/.]/g, '_'));
    const lora = join(folder, `${sample.stem}.safetensors`);
    const metadata = sample.suffix ? undefined : await headerOf(join(SAMPLES!, sample.file));
    await mkdir(folder, { recursive: true });
    await writeFile(lora, buildSafetensors({ metadata }).bytes);
    if (sample.suffix) await copyFile(join(SAMPLES!, sample.file), join(folder, `${sample.stem}${sample.suffix}`));

    const { facts, sidecarErrors } = await inspectAdapterFile({ absPath: lora }, { hash: false });
    const row = buildAdapterRow(
      facts,
      { relPath: `${sample.stem}.safetensors`, name: `${sample.stem}.safetensors`, size: 1, mtimeMs: 1 },
      { id: 'root', realPath: folder, path: folder },
      [],
      undefined,
      new Date(0),
    );
    expect(sidecarErrors).toEqual([]);
    expect(row).toMatchObject(sample.expected);
  });
});
