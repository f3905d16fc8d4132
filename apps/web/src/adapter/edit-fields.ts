import type { AdapterDto, PatchAdapterDto } from '../api/generated/types.gen';

/** The edit form's text values; lists are one entry per line or comma. */
export interface EditValues {
  name: string;
  triggerWords: string;
  preferredWeight: string;
  weightMin: string;
  weightMax: string;
  notes: string;
  tags: string;
  baseModel: string;
  nsfwOverride: string;
  ordinal: string;
  favorite: boolean;
  active: boolean;
}

const listText = (list: string[]): string => list.join(', ');
const numberText = (value: number | null): string => (value === null ? '' : String(value));
const splitList = (text: string): string[] =>
  text
    .split(/[,\n]/)
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
/** Empty clears the field (null); anything else goes as typed so the API names a bad number. */
const numberOrNull = (text: string): number | null => (text.trim() === '' ? null : Number(text));

export function editValuesOf(adapter: AdapterDto): EditValues {
  return {
    name: adapter.name,
    triggerWords: listText(adapter.triggerWords),
    preferredWeight: numberText(adapter.preferredWeight),
    weightMin: numberText(adapter.weightMin),
    weightMax: numberText(adapter.weightMax),
    notes: adapter.notes ?? '',
    tags: listText(adapter.tags),
    baseModel: adapter.baseModel,
    nsfwOverride: numberText(adapter.nsfwOverride),
    ordinal: numberText(adapter.ordinal),
    favorite: adapter.favorite,
    active: adapter.active,
  };
}

/** Only what changed, typed as the API takes it. */
export function patchOf(before: EditValues, after: EditValues): PatchAdapterDto {
  const patch: PatchAdapterDto = {};
  if (after.name !== before.name) patch.name = after.name;
  if (after.triggerWords !== before.triggerWords) patch.triggerWords = splitList(after.triggerWords);
  if (after.tags !== before.tags) patch.tags = splitList(after.tags);
  if (after.baseModel !== before.baseModel) patch.baseModel = after.baseModel;
  if (after.notes !== before.notes) patch.notes = after.notes === '' ? null : after.notes;
  for (const key of ['preferredWeight', 'weightMin', 'weightMax', 'nsfwOverride', 'ordinal'] as const) {
    if (after[key] !== before[key]) patch[key] = numberOrNull(after[key]);
  }
  if (after.favorite !== before.favorite) patch.favorite = after.favorite;
  if (after.active !== before.active) patch.active = after.active;
  return patch;
}
