/**
 * Query and path values arrive as strings: only plain decimal digits become a number, so `0x10`, `1e3`, ` 12` and
 * the empty string stay strings and fail `@IsInt()` instead of being read as 16, 1000, 12 and 0.
 */
export const toInteger = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
