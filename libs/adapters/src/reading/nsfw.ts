// Civitai nsfwLevel bitmask (LORA-FORMATS §9).

import { asCount } from './json-values.js';

export enum NsfwLevel {
  PG = 1,
  PG13 = 2,
  R = 4,
  X = 8,
  XXX = 16,
  Blocked = 32,
}

export const NSFW_ALL_BITS = 63;

// Deprecated string levels of old Civitai answers (reverse map: PG → None, PG-13 → Soft, R → Mature,
// X and XXX → X, Blocked → Blocked). `X` could also be XXX; 8 is the conservative reading.
const LEGACY: Readonly<Record<string, number>> = {
  none: NsfwLevel.PG,
  soft: NsfwLevel.PG13,
  mature: NsfwLevel.R,
  x: NsfwLevel.X,
  blocked: NsfwLevel.Blocked,
  // Current labels, in case a tool wrote them as strings.
  pg: NsfwLevel.PG,
  'pg-13': NsfwLevel.PG13,
  r: NsfwLevel.R,
  xxx: NsfwLevel.XXX,
};

/**
 * A bitmask from a number (0..63), a numeric string, or a deprecated string label. Booleans give undefined
 * here: a boolean is a weaker fact than a level, so callers fall back to `levelOfNsfwFlag` only when no
 * level is known.
 */
export function toNsfwLevel(value: unknown): number | undefined {
  const n = asCount(value);
  if (n !== undefined) return n <= NSFW_ALL_BITS ? n : undefined;
  if (typeof value === 'string') return LEGACY[value.trim().toLowerCase()];
  return undefined;
}

export function nsfwFlag(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

/**
 * The level an old Civitai `nsfw: true|false` (or StabilityMatrix `Nsfw`) stands for: false is PG; true is R or
 * X, both bits, so a "hide above PG-13" threshold hides it and an R or X filter finds it (LORA-FORMATS §9).
 */
export function levelOfNsfwFlag(flag: boolean): number {
  return flag ? NsfwLevel.R | NsfwLevel.X : NsfwLevel.PG;
}

/** OR of several levels (a version's level is the OR of its images'). Undefined when none is known. */
export function combineNsfwLevels(levels: Iterable<number | undefined>): number | undefined {
  let out: number | undefined;
  for (const l of levels) if (l !== undefined) out = (out ?? 0) | l;
  return out;
}

/** True when any of R, X, XXX, Blocked is set. */
export function isNsfwLevel(level: number): boolean {
  return (level & (NsfwLevel.R | NsfwLevel.X | NsfwLevel.XXX | NsfwLevel.Blocked)) !== 0;
}
