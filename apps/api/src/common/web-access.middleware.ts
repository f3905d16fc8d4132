import type { AccessRefusal, WebAccessPolicy } from '@app/core';
import { SAFE_METHODS } from '@app/core';
import type { NextFunction, Request, Response } from 'express';
import type { ErrorBodyDto } from './error-body.dto.js';
import { factsOf } from './request-facts.js';

/** The media types the JSON parser reads: `application/json` and `application/<anything>+json`. */
export const JSON_MEDIA_TYPES = ['application/json', 'application/*+json'];

/** Content types an image upload (`POST /recipes/parse-image`, `from-image`) is sent with: the file itself as the body. */
export const IMAGE_UPLOAD_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'application/octet-stream'];
/** Routes that take a raw image body; every other route takes JSON only. */
export const IMAGE_UPLOAD_PATHS = ['/api/v1/recipes/parse-image', '/api/v1/recipes/from-image'];

const isJsonType = (contentType: string): boolean => {
  const type = contentType.split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type);
};

/**
 * Routes that take a raw binary body of one type. `application/zip` is no type a foreign page can send without a
 * CORS preflight (a multipart form is), so an archive upload keeps the same protection as JSON bodies.
 */
const BINARY_BODY_ROUTES: Record<string, string> = { '/api/v1/archive/import': 'application/zip' };

/** An image sent as the body to a route that takes one (a type no foreign page can send without asking). */
const isImageUpload = (path: string, contentType: string): boolean =>
  IMAGE_UPLOAD_PATHS.includes(path.replace(/\/+$/, '')) &&
  IMAGE_UPLOAD_TYPES.includes(contentType.split(';')[0].trim().toLowerCase());

/** Bodies are JSON only: a form or text body (what a foreign page can send without asking) is a 415. */
export function bodyTypeRefusal(req: Request): AccessRefusal | null {
  if (SAFE_METHODS.has(req.method)) return null;
  const contentType = req.headers['content-type'];
  const binaryType = BINARY_BODY_ROUTES[req.path];
  if (binaryType !== undefined) {
    if (contentType?.split(';')[0].trim().toLowerCase() === binaryType) return null;
    return {
      status: 415,
      code: 'unsupported_media_type',
      message: `Send the archive as the body with Content-Type: ${binaryType}`,
    };
  }
  const length = req.headers['content-length'];
  const hasBody = (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
  if (contentType === undefined ? !hasBody : isJsonType(contentType)) return null;
  if (contentType !== undefined && isImageUpload(req.path, contentType)) return null;
  return {
    status: 415,
    code: 'unsupported_media_type',
    message: 'Request bodies must be JSON (Content-Type: application/json)',
  };
}

const STATUS_TEXT: Record<number, string> = { 403: 'Forbidden', 415: 'Unsupported Media Type' };

/** Runs before routing, body parsing and static files, so a refused request reaches nothing. */
export function webAccessMiddleware(policy: WebAccessPolicy) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const refusal = policy.refusal(factsOf(req), req.method, req.path) ?? bodyTypeRefusal(req);
    if (!refusal) return next();
    const body: ErrorBodyDto = {
      statusCode: refusal.status,
      error: STATUS_TEXT[refusal.status] ?? 'Error',
      message: refusal.message,
      code: refusal.code,
    };
    res.status(refusal.status).json(body);
  };
}
