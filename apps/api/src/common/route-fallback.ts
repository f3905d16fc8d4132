import { METHODS } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ErrorBodyDto } from './error-body.dto.js';

/** Paths whose allowed methods are remembered at once; past that the memory starts over. */
const KNOWN_PATHS = 1000;

interface RouteMethods {
  pattern: RegExp;
  methods: ReadonlySet<string>;
}

/** A route as the HTTP router holds it: an Express path (`/api/v1/adapters/:id`) and the methods it answers. */
interface RouterRoute {
  path: unknown;
  methods: Record<string, boolean | undefined>;
}

/** The methods each path of the app answers, read from the router once `init()` has built it. */
export class RouteTable {
  /** Answers by path, so that a path asked again skips the scan of every route's pattern (bounded: ids vary). */
  private readonly known = new Map<string, readonly string[] | undefined>();

  private constructor(private readonly routes: readonly RouteMethods[]) {}

  /**
   * Every route the app's router serves once `init()` has registered them (controllers, health, metrics, docs):
   * reading them needs no OpenAPI document, which takes a noticeable share of the start-up to build. Paths with
   * wildcards are left out (such a path then passes on, as an unknown one does).
   */
  static fromRoutes(routes: readonly RouterRoute[]): RouteTable {
    const byPath = new Map<string, Set<string>>();
    for (const route of routes) {
      if (typeof route.path !== 'string' || /[*?(){}]/.test(route.path)) continue;
      const on = Object.keys(route.methods).filter((m) => route.methods[m]);
      // A route on every method is a middleware binding (Nest binds route-scoped middleware so), not an endpoint.
      if (route.methods._all || METHODS.every((m) => route.methods[m.toLowerCase()])) continue;
      const methods = byPath.get(route.path) ?? new Set<string>();
      for (const method of on) methods.add(method.toUpperCase());
      byPath.set(route.path, methods);
    }
    return new RouteTable(
      [...byPath].map(([path, methods]) => {
        if (methods.has('GET')) methods.add('HEAD');
        return { pattern: routerPathPattern(path), methods };
      }),
    );
  }

  /** The methods a path answers (sorted), or undefined when no route has this path. */
  allowedMethods(path: string): readonly string[] | undefined {
    if (this.known.has(path)) return this.known.get(path);
    const allowed = this.scan(path);
    if (this.known.size >= KNOWN_PATHS) this.known.clear();
    this.known.set(path, allowed);
    return allowed;
  }

  private scan(path: string): string[] | undefined {
    const matching = this.routes.filter((r) => r.pattern.test(path));
    if (matching.length === 0) return undefined;
    return [...new Set(matching.flatMap((r) => [...r.methods]))].sort();
  }
}

/** `/api/v1/adapters/:id` → a pattern matching one segment per parameter, like Express (case-insensitive, optional trailing slash). */
function routerPathPattern(path: string): RegExp {
  const source = path
    .split(/(:[A-Za-z0-9_$]+)/)
    .map((part, i) => (i % 2 === 1 ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}/?$`, 'i');
}

const send = (res: Response, body: ErrorBodyDto): void => void res.status(body.statusCode).json(body);

/**
 * A known path asked with a method it does not answer: 405 with `Allow`. A plain `OPTIONS` gets the `Allow` list
 * (CORS preflights, which carry `Access-Control-Request-Method`, pass on).
 */
export function rejectWrongMethods(table: RouteTable | (() => RouteTable)): RequestHandler {
  let known = typeof table === 'function' ? undefined : table;
  return (req: Request, res: Response, next: NextFunction): void => {
    known ??= (table as () => RouteTable)();
    const allowed = known.allowedMethods(req.path);
    if (!allowed || allowed.includes(req.method)) return next();
    if (req.method === 'OPTIONS') {
      if (req.headers['access-control-request-method']) return next();
      res.setHeader('Allow', [...allowed, 'OPTIONS'].join(', '));
      return void res.status(204).end();
    }
    res.setHeader('Allow', allowed.join(', '));
    send(res, {
      statusCode: 405,
      error: 'Method Not Allowed',
      message: `${req.method} is not allowed on ${req.path}; allowed: ${allowed.join(', ')}`,
      code: 'method_not_allowed',
    });
  };
}

/**
 * The last handler: any path no route answered (outside the API prefix too, where Nest's own 404 does not reach)
 * gets the JSON error body instead of Express's HTML page. Handlers mounted after `init()` and before this one
 * (a web UI's fallback for `GET` + `Accept: text/html`) take precedence.
 */
export function answerUnknownPathsWithJson(app: INestApplication): void {
  app.use((req: Request, res: Response) =>
    send(res, { statusCode: 404, error: 'Not Found', message: `Cannot ${req.method} ${req.path}`, code: 'not_found' }),
  );
}
