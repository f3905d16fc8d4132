/**
 * Errors of the composer. They carry the request field they blame (`adapters[2].weight`) so the API's error
 * filter can report it as a field problem.
 */
import { DomainError, DomainErrorKind } from '@app/core';

export enum CompositionErrorCode {
  UnknownAdapter = 'unknown_adapter',
  WeightOutOfRange = 'weight_out_of_range',
  UnknownDialect = 'unknown_dialect',
  /** No `adapters` given and the active set is empty: nothing to compose. */
  NoActiveAdapters = 'no_active_adapters',
  InvalidOption = 'invalid_composition_option',
}

export interface CompositionFieldProblem {
  field: string;
  message: string;
}

/** Every composition error is a problem with the request (a 400 naming the field), never with the server. */
export class CompositionError extends DomainError {
  declare readonly details: CompositionFieldProblem[];

  constructor(
    code: CompositionErrorCode,
    readonly field: string,
    message: string,
  ) {
    super(DomainErrorKind.Invalid, code, `${field}: ${message}`, [{ field, message }]);
  }
}

export class UnknownAdapterError extends CompositionError {
  constructor(
    readonly adapterId: string,
    field: string,
  ) {
    super(CompositionErrorCode.UnknownAdapter, field, `unknown adapter ${JSON.stringify(adapterId)}`);
  }
}

export class WeightOutOfRangeError extends CompositionError {
  constructor(
    readonly adapterId: string,
    readonly adapterName: string,
    field: string,
    readonly value: number,
    readonly min: number | null,
    readonly max: number | null,
  ) {
    super(
      CompositionErrorCode.WeightOutOfRange,
      field,
      `${Number.isFinite(value) ? String(value) : 'a non-finite number'} is out of range for adapter ` +
        `${JSON.stringify(adapterName)} (${adapterId}), allowed ${describeRange(min, max)}`,
    );
  }
}

export class UnknownDialectError extends CompositionError {
  constructor(
    readonly value: unknown,
    field = 'dialect',
  ) {
    super(CompositionErrorCode.UnknownDialect, field, `unknown dialect ${safeDescribe(value)}`);
  }
}

export class NoActiveAdaptersError extends CompositionError {
  constructor(field = 'adapters') {
    super(
      CompositionErrorCode.NoActiveAdapters,
      field,
      'no adapters were given and none are active: pass `adapters`, or activate some first ' +
        '(POST /api/v1/adapters/{id}/activate, or POST /api/v1/adapters/bulk with action `activate`)',
    );
  }
}

/** A request option with a value the composer cannot use (weight cap, trigger-word policy). */
export class InvalidCompositionOptionError extends CompositionError {
  constructor(field: string, message: string) {
    super(CompositionErrorCode.InvalidOption, field, message);
  }
}

function describeRange(min: number | null, max: number | null): string {
  if (min !== null && max !== null) return `${min}..${max}`;
  if (min !== null) return `>= ${min}`;
  if (max !== null) return `<= ${max}`;
  return 'any finite number';
}

function safeDescribe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return typeof value;
}
