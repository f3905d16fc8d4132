import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeCivitaiInfo, writePreview, writeSafetensors } from './corpus-builder.js';

export interface WebCorpusAdapter {
  file: string;
  name: string;
  baseModel: string;
  trainedWords: string[];
  tags: string[];
  nsfwLevel: number;
}

/** A small library for the browser tests: named adapters across base models and tags, previews, one copied file. */
export const WEB_CORPUS: WebCorpusAdapter[] = [
  {
    file: 'characters/dragon-knight.safetensors',
    name: 'Dragon Knight',
    baseModel: 'SDXL 1.0',
    trainedWords: ['dragonknight'],
    tags: ['character', 'fantasy'],
    nsfwLevel: 1,
  },
  {
    file: 'characters/elf-archer.safetensors',
    name: 'Elf Archer',
    baseModel: 'SDXL 1.0',
    trainedWords: ['elfarcher'],
    tags: ['character', 'fantasy'],
    nsfwLevel: 1,
  },
  {
    file: 'characters/space-pilot.safetensors',
    name: 'Space Pilot',
    baseModel: 'SD 1.5',
    trainedWords: ['spacepilot'],
    tags: ['character', 'scifi'],
    nsfwLevel: 2,
  },
  {
    file: 'styles/watercolor.safetensors',
    name: 'Watercolor Style',
    baseModel: 'SD 1.5',
    trainedWords: ['watercolor'],
    tags: ['style'],
    nsfwLevel: 1,
  },
  {
    file: 'styles/ink-sketch.safetensors',
    name: 'Ink Sketch',
    baseModel: 'Pony',
    trainedWords: ['inksketch'],
    tags: ['style'],
    nsfwLevel: 1,
  },
  {
    file: 'styles/neon-noir.safetensors',
    name: 'Neon Noir',
    baseModel: 'Pony',
    trainedWords: ['neonnoir'],
    tags: ['style', 'scifi'],
    nsfwLevel: 4,
  },
  {
    file: 'concepts/castle.safetensors',
    name: 'Castle Concept',
    baseModel: 'SDXL 1.0',
    trainedWords: ['bigcastle'],
    tags: ['concept', 'fantasy'],
    nsfwLevel: 1,
  },
  {
    file: 'concepts/glass-dragon.safetensors',
    name: 'Glass Dragon',
    baseModel: 'SDXL 1.0',
    trainedWords: ['glassdragon'],
    tags: ['concept', 'fantasy'],
    nsfwLevel: 1,
  },
];

/** The copy of `characters/dragon-knight.safetensors` (same bytes: a duplicate). */
export const DUPLICATE_FILE = 'backup/dragon-knight-copy.safetensors';

/** Writes the corpus under `root`; `extraCount` adds plain adapters (no sidecar) so the grid has to scroll. */
export async function writeWebCorpus(root: string, extraCount = 0): Promise<void> {
  for (const [i, a] of WEB_CORPUS.entries()) {
    const path = join(root, a.file);
    await mkdir(join(path, '..'), { recursive: true });
    await writeSafetensors(path, { seed: `web-${i}` });
    await writeCivitaiInfo(path.replace(/\.safetensors$/, '.civitai.info'), {
      id: 9000 + i,
      modelId: 8000 + i,
      name: 'v1.0',
      baseModel: a.baseModel,
      trainedWords: a.trainedWords,
      nsfwLevel: a.nsfwLevel,
      model: { name: a.name, type: 'LORA', tags: a.tags },
    });
    await writePreview(path.replace(/\.safetensors$/, '.preview.png'));
  }
  await mkdir(join(root, 'backup'), { recursive: true });
  await copyFile(join(root, WEB_CORPUS[0].file), join(root, DUPLICATE_FILE));
  if (extraCount > 0) await mkdir(join(root, 'misc'), { recursive: true });
  for (let i = 0; i < extraCount; i++) {
    await writeSafetensors(join(root, 'misc', `extra-${String(i).padStart(4, '0')}.safetensors`), {
      seed: `extra-${i}`,
    });
  }
}
