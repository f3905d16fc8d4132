export class FieldErrorDto {
  /** Path of the field at fault, e.g. `adapters[2].weight` or `query.sort`. */
  field: string;
  message: string;
}

/** Every error the API returns has this body. */
export class ErrorBodyDto {
  /** @example 400 */
  statusCode: number;
  /** @example Bad Request */
  error: string;
  message: string;
  /** Stable machine-readable code. @example validation_failed */
  code: string;
  details?: FieldErrorDto[] | Record<string, unknown>;
}
