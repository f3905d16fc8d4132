import { type CanActivate, type ExecutionContext, Injectable, type Type } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/internal';
import type { Request } from 'express';
import { RequestValidationException } from './validation.js';

/** What a handler declares of the query string: named keys, or the whole query (a DTO the ValidationPipe checks). */
type DeclaredQuery = { keys: ReadonlySet<string> } | 'whole-query';

interface RouteArgument {
  data?: unknown;
}

/**
 * Unknown query parameters are a 400 on every route. Routes with a query DTO get that from the ValidationPipe
 * (`forbidNonWhitelisted`); this guard covers the routes that declare no query DTO, where nothing else would look.
 */
@Injectable()
export class DeclaredQueryGuard implements CanActivate {
  private readonly declaredByHandler = new WeakMap<object, DeclaredQuery>();

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const declared = this.declaredQuery(context.getClass(), context.getHandler());
    if (declared === 'whole-query') return true;
    const query = context.switchToHttp().getRequest<Request>().query as Record<string, unknown> | undefined;
    const unknown = Object.keys(query ?? {}).filter((key) => !declared.keys.has(key));
    if (unknown.length > 0) {
      throw new RequestValidationException(unknown.map((field) => ({ field, message: 'unknown field' })));
    }
    return true;
  }

  private declaredQuery(controller: Type<unknown>, handler: { name: string }): DeclaredQuery {
    const known = this.declaredByHandler.get(handler);
    if (known) return known;
    const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handler.name) ?? {}) as Record<
      string,
      RouteArgument
    >;
    const queryArgs = Object.entries(args)
      .filter(([key]) => Number(key.split(':')[0]) === Number(RouteParamtypes.QUERY))
      .map(([, arg]) => arg);
    const declared: DeclaredQuery = queryArgs.some((arg) => arg.data === undefined)
      ? 'whole-query'
      : { keys: new Set(queryArgs.map((arg) => arg.data).filter((data): data is string => typeof data === 'string')) };
    this.declaredByHandler.set(handler, declared);
    return declared;
  }
}
