import { Role } from '../config/app-config.js';

/** Only admins see secrets in stored work: URL tokens, CLI commands, arguments and output, absolute library paths. */
export const seesSecrets = (role: Role): boolean => role === Role.Admin;

// Bounded scheme length keeps the scan linear on long texts without any URL.
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]{0,31}:\/\/)([^\s/?#@]*@)?([^\s?#]*)(\?[^\s#]*)?(#\S*)?/gi;

/** Every URL in a text keeps scheme, host and path; userinfo, query and fragment (where tokens live) become `***`. */
export function redactUrlSecrets(text: string): string {
  return text.replace(
    URL_IN_TEXT,
    (
      _m,
      scheme: string,
      userinfo: string | undefined,
      rest: string,
      query: string | undefined,
      fragment: string | undefined,
    ) => `${scheme}${userinfo ? '***@' : ''}${rest}${query ? '?***' : ''}${fragment ? '#***' : ''}`,
  );
}

const MAX_DEPTH = 32;

/** A copy of a JSON-like value with `fn` applied to every string in it (object keys stay as they are). */
export function mapStrings<T>(value: T, fn: (text: string) => string, depth = 0): T {
  if (typeof value === 'string') return fn(value) as T;
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH || value instanceof Date) return value;
  if (Array.isArray(value)) return value.map((v: unknown) => mapStrings(v, fn, depth + 1)) as T;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v as unknown, fn, depth + 1)])) as T;
}
