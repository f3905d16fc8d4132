import { UnknownDialectError } from './composition-error.js';

/** The prompt syntax of the generator a composition is written for. Sent over the wire, hence a string enum. */
export enum Dialect {
  SdNext = 'sdnext',
  A1111 = 'a1111',
}

const DIALECTS: ReadonlySet<string> = new Set(Object.values(Dialect));

export function isDialect(value: unknown): value is Dialect {
  return typeof value === 'string' && DIALECTS.has(value);
}

/** Narrows request input to a {@link Dialect}; `undefined`/`null` means the default (SD.Next, the product's target). */
export function parseDialect(value: unknown, field = 'dialect'): Dialect {
  if (value === undefined || value === null) return Dialect.SdNext;
  if (isDialect(value)) return value;
  throw new UnknownDialectError(value, field);
}
