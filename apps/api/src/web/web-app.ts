import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';

/** Paths the web app never answers for: the API, its docs, probes, metrics and the Socket.IO transport. */
export const SERVER_PREFIXES = ['/api', '/docs', '/docs-json', '/health', '/metrics', '/socket.io', '/assets'] as const;

/** `dist/web` beside the running `dist/apps/api/src`; from sources (tests) the built one under `dist/`. */
export function webDistDir(): string {
  const up = resolve(import.meta.dirname, '..', '..', '..', '..');
  return basename(up) === 'dist' ? join(up, 'web') : join(up, 'dist', 'web');
}

/** Matches (empty, at the start) any path outside `SERVER_PREFIXES`, case-insensitively as Express routes. */
const OUTSIDE_SERVER_PREFIXES = new RegExp(
  `^(?!(?:${SERVER_PREFIXES.map((prefix) => prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})(?:[/?]|$))`,
  'i',
);

const underPrefix = (path: string, prefix: string): boolean =>
  path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`);

/** A browser navigating to a client-side route: a GET for HTML outside the server's own paths. */
export function wantsWebApp(method: string, path: string, accept: string | undefined): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (!accept?.includes('text/html')) return false;
  return !SERVER_PREFIXES.some((prefix) => underPrefix(path, prefix));
}

/**
 * Serves the built web app at `/`: hashed files under `/assets` cached for a year, `index.html` revalidated on every
 * load (so a deploy is picked up at once), and `index.html` for client-side routes. Absent build: the API runs alone.
 */
export function serveWebApp(app: NestExpressApplication, dir = webDistDir()): boolean {
  const index = join(dir, 'index.html');
  if (!existsSync(index)) return false;
  app.useStaticAssets(join(dir, 'assets'), { prefix: '/assets', immutable: true, maxAge: '365d', index: false });
  // Mounted on every path but the server's own (Express takes a RegExp mount path; Nest types the prefix as a string):
  // an API request then skips the file lookup (a stat on the thread pool) that could never find anything.
  app.useStaticAssets(dir, {
    prefix: OUTSIDE_SERVER_PREFIXES as unknown as string,
    index: 'index.html',
    setHeaders: (res: Response) => res.setHeader('Cache-Control', 'no-cache'),
  });
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (!wantsWebApp(req.method, req.path, req.headers.accept)) return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return true;
}
