import { applyDecorators } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiResponse } from '@nestjs/swagger';
import { ErrorBodyDto } from './error-body.dto.js';

/** Error statuses a route may answer; each one's body is {@link ErrorBodyDto}. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 502 | 503 | 504;

const ERROR_DESCRIPTIONS: Record<ErrorStatus, string> = {
  400: 'Invalid input; `details` names each field at fault',
  401: 'No valid API key (when API_KEYS is configured)',
  403: "The key's role may not do this",
  404: 'Not found',
  409: 'Conflicts with the current state',
  413: 'The request body is too large',
  415: 'The request body is not JSON',
  422: 'The image cannot be decoded or is too large (`code` says which)',
  502: 'SD.Next, Civitai or the file storage failed or answered something unusable',
  503: 'The database, the queue, the file storage or every SD.Next backend is unavailable',
  504: 'SD.Next or Civitai did not answer in time',
};

/** Declares error responses with the one error body. */
export const ApiErrorResponses = (...statuses: ErrorStatus[]): MethodDecorator & ClassDecorator =>
  applyDecorators(
    ...statuses.map((status) => ApiResponse({ status, description: ERROR_DESCRIPTIONS[status], type: ErrorBodyDto })),
  );

/** Any route a key protects: bad query or path values, no key, too weak a role. */
const PROTECTED: ErrorStatus[] = [400, 401, 403];

/** A read that needs the database (lists, lookups); add 404 etc. for one resource. */
export const ApiReadErrors = (...extra: ErrorStatus[]): MethodDecorator & ClassDecorator =>
  ApiErrorResponses(...PROTECTED, 503, ...extra);

/** A write with a JSON body (every POST/PATCH): also a body too large or not JSON. */
export const ApiWriteErrors = (...extra: ErrorStatus[]): MethodDecorator & ClassDecorator =>
  ApiErrorResponses(...PROTECTED, 413, 415, 503, ...extra);

/** A read answered from configuration and live probes, without the database. */
export const ApiConfigReadErrors = (): MethodDecorator & ClassDecorator => ApiErrorResponses(...PROTECTED);

interface NumberOptions {
  minimum?: number;
  maximum?: number;
  nullable?: boolean;
  description?: string;
}

/** A whole number in a response (counts, sizes, indexes): `integer` in the document, not `number`. */
export const ApiInteger = (options: NumberOptions = {}): PropertyDecorator =>
  ApiProperty({ type: 'integer', ...options });

/** A response field holding an entity id. */
export const ApiUuid = (options: { nullable?: boolean } = {}): PropertyDecorator =>
  ApiProperty({ type: 'string', format: 'uuid', ...options });

/** A response field holding an ISO 8601 timestamp. */
export const ApiDateTime = (options: { nullable?: boolean } = {}): PropertyDecorator =>
  ApiProperty({ type: 'string', format: 'date-time', ...options });

/** A binary body or answer in the document. */
export const BINARY_CONTENT = { schema: { type: 'string', format: 'binary' } };

/** The image types a stored image is served as (the backend's or the uploader's own). */
export const STORED_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/octet-stream'];

/** A route that answers an image file of one of `types`. */
export const ApiImageResponse = (types: readonly string[] = STORED_IMAGE_TYPES): MethodDecorator =>
  ApiOkResponse({ description: 'The image', content: Object.fromEntries(types.map((t) => [t, BINARY_CONTENT])) });
