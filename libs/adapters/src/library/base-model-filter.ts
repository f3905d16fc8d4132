import { normaliseCivitaiBaseModel } from '../reading/base-model.js';

/** A `baseModel` filter value resolved to the spellings stored in the library. */
export interface ResolvedBaseModels {
  /** Exact stored spellings to match (`base_model IN (…)`, so the column's index serves the filter). */
  baseModels: string[];
  /** Values that are neither a known base model (by name or alias) nor a base model of any adapter. */
  unmatched: string[];
}

/** Case and runs of spaces do not tell base models apart. */
const keyOf = (value: string): string => value.trim().replace(/\s+/g, ' ').toLowerCase();

/**
 * Resolves filter values as the importer normalises base models (`normaliseCivitaiBaseModel`: Civitai's spelling,
 * any case, or an alias such as `sdxl`, `pony`, `sd15`, `flux`), to every spelling in `stored` (the library's base
 * models) that means the same: its canonical name, and spellings a user's edit or an unknown sidecar value left.
 */
export function resolveBaseModelFilter(values: readonly string[], stored: readonly string[]): ResolvedBaseModels {
  const storedByKey = new Map<string, Set<string>>();
  const remember = (key: string, spelling: string): void => {
    const spellings = storedByKey.get(key) ?? new Set<string>();
    spellings.add(spelling);
    storedByKey.set(key, spellings);
  };
  for (const spelling of stored) {
    remember(keyOf(normaliseCivitaiBaseModel(spelling).value), spelling);
    remember(keyOf(spelling), spelling);
  }

  const baseModels = new Set<string>();
  const unmatched: string[] = [];
  for (const value of values) {
    const normalised = normaliseCivitaiBaseModel(value);
    const spellings = storedByKey.get(keyOf(normalised.value));
    if (normalised.known) baseModels.add(normalised.value);
    for (const s of spellings ?? []) baseModels.add(s);
    if (!normalised.known && !spellings) {
      unmatched.push(value);
      // Still a condition: a value that matches nothing must find nothing.
      baseModels.add(value.trim());
    }
  }
  return { baseModels: [...baseModels], unmatched };
}
