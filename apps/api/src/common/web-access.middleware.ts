import type { AccessRefusal, WebAccessPolicy } from '@app/core';
import { SAFE_METHODS } from '@app/core';
import type { NextFunction, Request, Response } from 'express';
import type { ErrorBodyDto } from './error-body.dto.js';
import { factsOf } from './request-facts.js';

/** The media types the JSON parser reads: `application/json` and `application/<anything>+json`. */
export const JSON_MEDIA_TYPES = ['application/json', 'application/*+json'];

/** Content types an image upload (`POST /recipes/parse-image`, `from-image`) is sent with: the file itself as the body. */
export const IMAGE_UPLOAD_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'application/octet-stream'];
/**
 * Routes that take a raw body (the file itself) and the types each accepts; every other route takes JSON only. None
 * of these types is one a foreign page can send without a CORS preflight (a multipart form is), so uploads keep the
 * same protection as JSON bodies.
 */
const RAW_BODY_ROUTES: Record<string, readonly string[]> = {
  '/api/v1/recipes/parse-image': IMAGE_UPLOAD_TYPES,
  '/api/v1/recipes/from-image': IMAGE_UPLOAD_TYPES,
  '/api/v1/archive/import': ['application/zip'],
};

const mediaTypeOf = (contentType: string): string => contentType.split(';')[0].trim().toLowerCase();

const isJsonType = (contentType: string): boolean => {
  const type = mediaTypeOf(contentType);
  return type === 'application/json' || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type);
};

/**
 * Bodies are JSON, or on a raw-body route the file in one of its types: a form or text body (what a foreign page can
 * send without asking) is a 415. JSON sent to a raw-body route reaches it, and it answers which body it needs.
 */
export function bodyTypeRefusal(req: Request): AccessRefusal | null {
  if (SAFE_METHODS.has(req.method)) return null;
  const contentType = req.headers['content-type'];
  const length = req.headers['content-length'];
  const hasBody = (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
  // No body at all reaches the route, which names what is missing (a 400 on its body or query).
  if (contentType === undefined && !hasBody) return null;
  if (contentType !== undefined && isJsonType(contentType)) return null;
  const rawTypes = RAW_BODY_ROUTES[req.path.replace(/\/+$/, '')];
  if (rawTypes !== undefined) {
    if (contentType !== undefined && rawTypes.includes(mediaTypeOf(contentType))) return null;
    return {
      status: 415,
      code: 'unsupported_media_type',
      message: `Send the file itself as the body with Content-Type: ${rawTypes.join(', ')}`,
    };
  }
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
