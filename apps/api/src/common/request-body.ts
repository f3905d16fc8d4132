import { BadRequestException } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { json, type NextFunction, type Request, type Response } from 'express';
import { RequestValidationException } from './validation.js';
import { IMAGE_UPLOAD_TYPES, JSON_MEDIA_TYPES } from './web-access.middleware.js';

/** Larger JSON bodies are refused with 413 before they are parsed; the largest real one (two 20,000-character prompts) fits. */
export const JSON_BODY_LIMIT = '1mb';
/** Real bodies nest a few levels; anything deeper is refused before validation, whose recursion it would exhaust. */
export const MAX_JSON_DEPTH = 32;
/** Keys that rewrite an object's prototype when a body is copied or merged. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export type BodyProblem = { kind: 'too_deep' } | { kind: 'prototype_key'; path: string };

/** Walks a parsed body without recursion and reports the first thing that must not reach validation. */
export function bodyProblem(body: unknown, maxDepth = MAX_JSON_DEPTH): BodyProblem | undefined {
  const pending: { value: unknown; depth: number; path: string }[] = [{ value: body, depth: 1, path: '' }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value, depth, path } = next;
    if (value === null || typeof value !== 'object') continue;
    if (depth > maxDepth) return { kind: 'too_deep' };
    const isArray = Array.isArray(value);
    for (const key of Object.keys(value)) {
      const childPath = isArray ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      if (!isArray && PROTOTYPE_KEYS.has(key)) return { kind: 'prototype_key', path: childPath };
      pending.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1, path: childPath });
    }
  }
  return undefined;
}

function rejectUnsafeBodies(req: Request, _res: Response, next: NextFunction): void {
  const problem = bodyProblem(req.body);
  if (!problem) return next();
  if (problem.kind === 'too_deep') {
    return next(
      new BadRequestException({
        message: `Request body is nested deeper than ${MAX_JSON_DEPTH} levels`,
        code: 'body_too_deep',
      }),
    );
  }
  next(new RequestValidationException([{ field: problem.path, message: 'this key is not allowed' }]));
}

/** Raw image bodies up to `maxBytes` (413 above), read only on the upload routes. */
export function useImageBodies(app: NestExpressApplication, maxBytes: number): void {
  app.useBodyParser('raw', { limit: maxBytes, type: IMAGE_UPLOAD_TYPES });
}

/**
 * JSON bodies up to the size limit (or, on the paths of `largerLimits`, theirs), then the depth and prototype-key
 * check, before any route sees the body.
 */
export function useJsonBodies(app: NestExpressApplication, largerLimits: Record<string, number> = {}): void {
  // A body parsed here is not parsed again by the general parser below.
  for (const [path, limit] of Object.entries(largerLimits)) app.use(path, json({ limit, type: JSON_MEDIA_TYPES }));
  app.useBodyParser('json', { limit: JSON_BODY_LIMIT, type: JSON_MEDIA_TYPES });
  app.use(rejectUnsafeBodies);
}
