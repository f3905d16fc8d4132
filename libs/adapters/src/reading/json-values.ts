// Narrowing helpers for untrusted JSON (sidecars, headers). Sidecars come from many tools and
// versions, so every reader coerces loosely and never throws on a single odd field.

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A trimmed non-empty string, or undefined. Numbers are accepted and stringified. */
export function asString(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return trimmed.length > 0 ? trimmed : undefined;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Longer numeric text than any writer produces (a float's repr is at most 24 characters). */
export const MAX_NUMBER_CHARS = 64;
/** Digits with at most one point and an exponent; each character has one place to go, so matching is linear. */
const NUMBER_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A finite number; numeric strings ("0.8", "16.0") are accepted, Python's "None"/"NaN" are not. */
export function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    // Bounded before matching: a header or sidecar value may be megabytes long.
    if (trimmed === '' || trimmed.length > MAX_NUMBER_CHARS || !NUMBER_TEXT.test(trimmed)) return undefined;
    const n = Number(trimmed);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A non-negative safe integer (ids, counts). */
export function asCount(value: unknown): number | undefined {
  const n = asNumber(value);
  return n !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** A positive safe integer (Civitai ids). */
export function asId(value: unknown): number | undefined {
  const n = asCount(value);
  return n !== undefined && n > 0 ? n : undefined;
}

/** Booleans, plus the Python and JSON-ish spellings kohya and others write. */
export function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (v === 'true') return true;
    if (v === 'false') return false;
  }
  return undefined;
}

/** An array of trimmed non-empty strings; a single string becomes a one-element array. */
export function asStringArray(value: unknown): string[] | undefined {
  if (typeof value === 'string') {
    const s = asString(value);
    return s === undefined ? undefined : [s];
  }
  if (!Array.isArray(value)) return undefined;
  const out: string[] = [];
  for (const item of value) {
    // Older Civitai answers give tags as objects: [{ "name": "style" }].
    const s = isRecord(item) ? asString(item['name']) : asString(item);
    if (s !== undefined) out.push(s);
  }
  return out;
}

/** Split a comma-separated list (header keys, A1111 activation text), trimming and dropping empties. */
export function splitList(value: string, separators: RegExp = /,/): string[] {
  return value
    .split(separators)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Case-insensitive de-duplication that keeps the first spelling and order. */
export function uniqueStrings(values: Iterable<string>): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const v of values) {
    const key = v.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      out.push(v);
    }
  }
  return out;
}

/**
 * An ISO-8601 timestamp. Accepts ISO strings (with or without zone: kohya writes local time without
 * one, kept as written), and numbers/numeric strings as Unix seconds (< 1e11) or milliseconds.
 */
export function asIsoDate(value: unknown): string | undefined {
  const n = asNumber(value);
  if (n !== undefined) {
    if (n <= 0) return undefined;
    const ms = n < 1e11 ? n * 1000 : n;
    const d = new Date(ms);
    return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
  }
  const s = asString(value);
  if (s === undefined || s.length > MAX_NUMBER_CHARS) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}/.test(s)) return undefined;
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return undefined;
  // Keep a zone-less value as written instead of silently shifting it to UTC.
  return /[zZ]|[+-]\d{2}:?\d{2}$/.test(s) ? d.toISOString() : s;
}

/** Lower-case hex with an optional `0x` prefix removed; undefined when not hex of an allowed length. */
export function normaliseHex(value: unknown, lengths?: readonly number[]): string | undefined {
  const s = asString(value);
  if (s === undefined) return undefined;
  const hex = s.replace(/^0x/i, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex)) return undefined;
  if (lengths && !lengths.includes(hex.length)) return undefined;
  return hex;
}

/** Copy of `obj` without the keys in `consumed`. */
export function pickUnmapped(obj: JsonRecord, consumed: ReadonlySet<string>): JsonRecord {
  const out: JsonRecord = {};
  for (const [k, v] of Object.entries(obj)) {
    if (!consumed.has(k)) out[k] = v;
  }
  return out;
}
