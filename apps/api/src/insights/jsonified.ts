/** A lib type as it goes over the wire: dates become ISO 8601 strings. */
export type Jsonified<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? Jsonified<U>[]
    : T extends object
      ? { [K in keyof T]: Jsonified<T[K]> }
      : T;

/** Converts a lib value to its response shape (dates to ISO strings, undefined fields dropped). */
export const jsonified = <T>(value: T): Jsonified<T> => JSON.parse(JSON.stringify(value)) as Jsonified<T>;
