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

/**
 * The user fields a re-read row takes from the stored row whether or not the user edited them (`buildAdapterRow`):
 * the files never say them.
 */
const ALWAYS_STORED = [
  AdapterUserField.TriggerWords,
  AdapterUserField.NsfwOverride,
  AdapterUserField.Favorite,
  AdapterUserField.Active,
  AdapterUserField.Ordinal,
] as const;

/** What a row holds of its user: every user field and the list of those edited. */
export type AdapterUserState = { [F in AdapterUserField]: unknown } & { userEdited: AdapterUserField[] };

/** The fields the derived columns come from, and those columns (`deriveUserColumns`). */
export type DerivedColumnsRow = SearchableFields & {
  nsfwLevel: number;
  nsfwOverride: number | null;
  sortName: string;
  nsfwMax: number;
  searchText: string;
};

/**
 * Recomputes the columns derived from the user fields: after an edit, an archive merge, or a re-read that kept the
 * stored user state. (The importer's `buildAdapterRow` writes the same rules into its row literal.)
 */
export function deriveUserColumns(row: DerivedColumnsRow): void {
  row.sortName = row.name.toLowerCase();
  row.nsfwMax = nsfwMaxOf(row.nsfwLevel, row.nsfwOverride);
  row.searchText = searchTextOf(row);
}

/** A row as the importer writes it: its user state and what is derived from it. */
export type AdapterUserRow = AdapterUserState & DerivedColumnsRow;

/**
 * Puts the stored user state back into a row built from an older read of it, so that an edit saved while the row
 * was built (an import or a hash run reads a row, then writes it seconds later) is not overwritten: the stored
 * values of the fields the user has edited and of those the files never say, then the derived columns again. A row
 * built from the same state comes out unchanged. `userEdited` only grows, so every value taken here is the user's.
 */
export function keepStoredUserState(row: AdapterUserRow, stored: AdapterUserState): void {
  const fields = row as unknown as Record<string, unknown>;
  for (const field of ALWAYS_STORED) fields[field] = stored[field];
  for (const field of stored.userEdited) fields[field] = stored[field];
  row.userEdited = stored.userEdited;
  deriveUserColumns(row);
}
