import { type ArgumentMetadata, BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';
import { ValidateIf } from 'class-validator';

export interface FieldError {
  field: string;
  message: string;
}

/** Flattens class-validator's tree into `field: message` pairs with dotted/indexed paths. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const path = /^\d+$/.test(e.property)
      ? `${parent}[${e.property}]`
      : parent
        ? `${parent}.${e.property}`
        : e.property;
    for (const message of Object.values(e.constraints ?? {})) {
      out.push({
        field: path,
        message: message.startsWith('property ') && message.endsWith(' should not exist') ? 'unknown field' : message,
      });
    }
    if (e.children?.length) out.push(...flattenValidationErrors(e.children, path));
  }
  return out;
}

export class RequestValidationException extends BadRequestException {
  constructor(readonly fields: FieldError[]) {
    super(fields.map((f) => `${f.field}: ${f.message}`).join('; '));
  }
}

/** The path of the first string (value or key) holding a NUL character, which no field means and PostgreSQL cannot store. */
export function nulFieldOf(value: unknown, path = ''): string | undefined {
  const pending: { value: unknown; path: string }[] = [{ value, path }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (typeof next.value === 'string' && next.value.includes('\0')) return next.path;
    if (next.value === null || typeof next.value !== 'object') continue;
    const isArray = Array.isArray(next.value);
    for (const [key, child] of Object.entries(next.value)) {
      const childPath = isArray ? `${next.path}[${key}]` : next.path ? `${next.path}.${key}` : key;
      if (key.includes('\0')) return childPath;
      pending.push({ value: child, path: childPath });
    }
  }
  return undefined;
}

/** Query strings whose validated DTO is kept per DTO class: a client's list, search and poll requests repeat. */
const QUERY_MEMO_ENTRIES = 256;

/**
 * Refuses NUL characters in the body, query and path before the DTO validation runs. A whole query that validated
 * once is not validated again: its DTO is kept (by DTO class and query string, least recently used dropped first)
 * and each request gets its own copy, its arrays copied too, so a handler may change what it was given.
 */
class RequestValidationPipe extends ValidationPipe {
  private readonly validQueries = new WeakMap<object, Map<string, object>>();

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type !== 'custom') {
      const field = nulFieldOf(value, metadata.data ?? '');
      if (field !== undefined)
        throw new RequestValidationException([{ field, message: 'must not contain NUL characters' }]);
    }
    if (metadata.type !== 'query' || metadata.data !== undefined || !metadata.metatype || !this.toValidate(metadata)) {
      return super.transform(value, metadata);
    }
    let memo = this.validQueries.get(metadata.metatype);
    if (!memo) this.validQueries.set(metadata.metatype, (memo = new Map<string, object>()));
    const key = JSON.stringify(value);
    const known = memo.get(key);
    if (known) {
      memo.delete(key);
      memo.set(key, known);
      return copyDto(known);
    }
    const dto = (await super.transform(value, metadata)) as object;
    memo.set(key, copyDto(dto));
    if (memo.size > QUERY_MEMO_ENTRIES) memo.delete(memo.keys().next().value as string);
    return dto;
  }
}

/** A DTO of query fields (strings, numbers, booleans, dates, arrays of them) with its own arrays. */
function copyDto(dto: object): object {
  const copy = Object.create(Object.getPrototypeOf(dto) as object | null) as Record<string, unknown>;
  for (const key of Object.keys(dto)) {
    const field = (dto as Record<string, unknown>)[key];
    copy[key] = Array.isArray(field) ? field.slice() : field;
  }
  return copy;
}

/** Unknown fields are a 400, not silently dropped; strings from the query are converted to the DTO's types. */
export function createValidationPipe(): ValidationPipe {
  return new RequestValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => new RequestValidationException(flattenValidationErrors(errors)),
  });
}

/** The field may be left out, but `null` is refused like any other wrong value: for fields with no "none" state. */
export const IsOptionalNonNull = (): PropertyDecorator =>
  ValidateIf((_object: object, value: unknown) => value !== undefined);
