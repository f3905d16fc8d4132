import { ApiExtraModels, ApiProperty, getSchemaPath } from '@nestjs/swagger';

export class FieldErrorDto {
  /** Path of the field at fault, e.g. `adapters[2].weight` or `query.sort`. */
  field: string;
  message: string;
}

/** Every error the API returns has this body. */
@ApiExtraModels(FieldErrorDto)
export class ErrorBodyDto {
  /** @example 400 */
  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599 })
  statusCode: number;
  /** @example Bad Request */
  error: string;
  message: string;
  /** Stable machine-readable code. @example validation_failed */
  code: string;
  /** Validation errors: the fields at fault; other errors: facts about the failure (e.g. `jobId`). */
  @ApiProperty({
    required: false,
    oneOf: [
      { type: 'array', items: { $ref: getSchemaPath(FieldErrorDto) } },
      { type: 'object', additionalProperties: true },
    ],
  })
  details?: FieldErrorDto[] | Record<string, unknown>;
}
