import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
/**
 * Query and path values arrive as strings: only plain decimal digits become a number, so `0x10`, `1e3`, ` 12` and
 * the empty string stay strings and fail `@IsInt()` instead of being read as 16, 1000, 12 and 0.
 */
export const toInteger = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;

/** `a,b` or repeated `?x=a&x=b` → `['a', 'b']`; anything else is left for the validators to refuse. */
export const toList = ({ value }: { value: unknown }): unknown => {
  const parts = Array.isArray(value) ? value : [value];
  if (!parts.every((p) => typeof p === 'string')) return value;
  return parts
    .flatMap((p) => p.split(','))
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
};

/**
 * An optional whole-number query parameter within `[min, max]`: digits only (see `toInteger`), 400 naming the
 * parameter outside the bounds, which the OpenAPI document states.
 */
export const OptionalIntegerQuery = (min: number, max: number): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({ minimum: min, maximum: max, type: 'integer' }),
    IsOptional(),
    Transform(toInteger),
    IsInt(),
    Min(min),
    Max(max),
  );
