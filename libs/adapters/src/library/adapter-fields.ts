/** Derived columns shared by the importer and the edit API, so both compute them the same way. */

/** Fields a user may edit; a resync never overwrites one the user has set (see `userEdited`). */
export enum AdapterUserField {
  Name = 'name',
  TriggerWords = 'triggerWords',
  PreferredWeight = 'preferredWeight',
  WeightMin = 'weightMin',
  WeightMax = 'weightMax',
  Notes = 'notes',
  Favorite = 'favorite',
  Active = 'active',
  Ordinal = 'ordinal',
  NsfwOverride = 'nsfwOverride',
  BaseModel = 'baseModel',
  Tags = 'tags',
}

/** The highest level bit of a Civitai NSFW bitmask: what a "hide above" threshold compares. */
export function highestNsfwBit(level: number | null | undefined): number {
  if (!level || level <= 0) return 0;
  return 1 << (31 - Math.clz32(level));
}

export function nsfwMaxOf(nsfwLevel: number, nsfwOverride: number | null): number {
  return highestNsfwBit(nsfwOverride ?? nsfwLevel);
}

export function normaliseTag(tag: string): string {
  return tag.trim().toLowerCase().replace(/\s+/g, ' ').slice(0, 255);
}

export function normaliseTags(tags: readonly string[]): string[] {
  return [...new Set(tags.map(normaliseTag).filter((t) => t.length > 0))];
}

export interface SearchableFields {
  name: string;
  versionName?: string | null;
  fileName: string;
  creator?: string | null;
  trainedWords: readonly string[];
  triggerWords: readonly string[];
  tags: readonly string[];
}

/** The text the full-text index covers; the file stem is in it so users can find a file by its name. */
export function searchTextOf(f: SearchableFields): string {
  const stem = f.fileName.replace(/\.safetensors$/i, '');
  const stemWords = stem.replace(/[._-]+/g, ' ');
  return [
    f.name,
    f.versionName ?? '',
    stem,
    stemWords,
    f.creator ?? '',
    ...f.trainedWords,
    ...f.triggerWords,
    ...f.tags,
  ]
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .join(' \n ');
}
