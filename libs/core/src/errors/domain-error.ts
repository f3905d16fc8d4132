/**
 * Errors thrown by libs. Libs run in the API, the worker and the CLI, so they never throw HTTP exceptions;
 * the API's one exception filter maps {@link DomainErrorKind} to a status code.
 */
/** The message of anything thrown: an Error's message, anything else as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export enum DomainErrorKind {
  Invalid = 'invalid',
  NotFound = 'not_found',
  Conflict = 'conflict',
  Forbidden = 'forbidden',
  Upstream = 'upstream',
  UpstreamTimeout = 'upstream_timeout',
  Unavailable = 'unavailable',
  /** Well-formed request about content that cannot be processed (an image that does not decode): 422. */
  Unprocessable = 'unprocessable',
}

export interface FieldProblem {
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    /** Stable machine-readable code, e.g. `adapter_not_found`. */
    readonly code: string,
    message: string,
    readonly details?: FieldProblem[] | Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, id: string, code = `${what.toLowerCase().replace(/\s+/g, '_')}_not_found`) {
    super(DomainErrorKind.NotFound, code, `${what} ${id} not found`);
  }
}

export class InvalidInputError extends DomainError {
  constructor(code: string, message: string, details?: FieldProblem[]) {
    super(DomainErrorKind.Invalid, code, message, details);
  }

  static field(field: string, message: string, code = 'invalid_input'): InvalidInputError {
    return new InvalidInputError(code, `${field}: ${message}`, [{ field, message }]);
  }
}

export class ConflictError extends DomainError {
  constructor(code: string, message: string) {
    super(DomainErrorKind.Conflict, code, message);
  }
}

export class ForbiddenError extends DomainError {
  constructor(code: string, message: string) {
    super(DomainErrorKind.Forbidden, code, message);
  }
}

export class UnavailableError extends DomainError {
  constructor(code: string, message: string) {
    super(DomainErrorKind.Unavailable, code, message);
  }
}

export class UnprocessableError extends DomainError {
  constructor(code: string, message: string) {
    super(DomainErrorKind.Unprocessable, code, message);
  }
}
