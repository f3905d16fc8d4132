import { applyDecorators, StreamableFile } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional } from 'class-validator';
import { THUMBNAIL_SIZES, type ThumbnailAnswer, type ThumbnailSize } from '@app/core';
import type { Response } from 'express';
import { toInteger } from './query-params.js';

/** `?size=256|768`: a WebP thumbnail of that many pixels on the long side. */
export const ThumbnailSizeQuery = (description: string): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({ enum: THUMBNAIL_SIZES, type: 'integer', description }),
    IsOptional(),
    Transform(toInteger),
    IsIn(THUMBNAIL_SIZES),
  );

/** The query of a thumbnail route (results, recipes). */
export class ThumbnailQueryDto {
  @ThumbnailSizeQuery('Pixels on the long side (default 256)')
  size?: ThumbnailSize;
}

/** The responses of a thumbnail route besides its errors: the WebP, or 304 when `If-None-Match` names it. */
export const ApiThumbnailResponses = (): MethodDecorator =>
  applyDecorators(
    ApiHeader({ name: 'If-None-Match', required: false, description: 'An ETag from an earlier answer' }),
    ApiOkResponse({
      description: 'The image, or its WebP thumbnail when `size` is given',
      content: { 'image/*': { schema: { type: 'string', format: 'binary' } } },
    }),
    ApiResponse({ status: 304, description: 'The thumbnail named by If-None-Match has not changed' }),
  );

/**
 * Writes a thumbnail's headers: its ETag, and caching for `cacheControl`; a 304 without body when the client
 * has it already.
 */
export function sendThumbnail(
  answer: ThumbnailAnswer,
  res: Response,
  cacheControl: string,
): StreamableFile | undefined {
  res.setHeader('ETag', answer.etag);
  res.setHeader('Cache-Control', cacheControl);
  if (answer.notModified) {
    res.status(304);
    return undefined;
  }
  return new StreamableFile(answer.stream, { type: answer.contentType, length: answer.size });
}

export type { ThumbnailSize };
