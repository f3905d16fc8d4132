import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type DynamicModule,
  Global,
  Inject,
  Injectable,
  type LoggerService,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  RequestMethod,
} from '@nestjs/common';
import type { Logger as Pino } from 'pino';
import { type HttpLogger, type Options as PinoHttpOptions, pinoHttp } from 'pino-http';

const PINO_HTTP = Symbol('PINO_HTTP');

/** The request's child logger (it carries the request id) while a request is handled. */
const requestLogger = new AsyncLocalStorage<Pino>();

/** Nest's own start-up chatter (module list, route dump): debug level, so the boot summary stands alone at info. */
const FRAMEWORK_BOOT_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'WebSocketsController',
  'NestApplication',
]);

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/**
 * Nest's logger interface over pino: `context` (Nest passes it last) becomes a field, an Error becomes `err`, and
 * inside a request the line carries the request's id.
 */
@Injectable()
export class AppLogger implements LoggerService {
  constructor(@Inject(PINO_HTTP) private readonly http: HttpLogger) {}

  log(message: unknown, ...params: unknown[]): void {
    const context = params.at(-1);
    const demoted = typeof context === 'string' && FRAMEWORK_BOOT_CONTEXTS.has(context);
    this.write(demoted ? 'debug' : 'info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    const logger = requestLogger.getStore() ?? this.http.logger;
    const fields: Record<string, unknown> = {};
    const rest = [...params];
    if (rest.length > 0 && typeof rest.at(-1) === 'string') fields.context = rest.pop();
    // Nest's exception handlers call error(message, stack, context).
    if (typeof rest[0] === 'string' && rest[0].includes('\n    at ')) fields.stack = rest.shift();
    if (message instanceof Error) {
      fields.err = message;
      logger[level](fields, message.message);
    } else if (typeof message === 'object' && message !== null) {
      logger[level]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      logger[level](fields, String(message));
    }
  }
}

/** pino for the app, and pino-http logging every request (what `nestjs-pino` did; its current major wants Node 22). */
@Global()
@Module({})
export class PinoLoggerModule implements NestModule {
  constructor(@Inject(PINO_HTTP) private readonly http: HttpLogger) {}

  static forRoot(options: { pinoHttp: PinoHttpOptions<IncomingMessage, ServerResponse> }): DynamicModule {
    return {
      module: PinoLoggerModule,
      providers: [{ provide: PINO_HTTP, useFactory: () => pinoHttp(options.pinoHttp) }, AppLogger],
      exports: [AppLogger],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply((req: IncomingMessage & { log?: Pino }, res: ServerResponse, next: () => void) =>
        this.http(req, res, () => (req.log ? requestLogger.run(req.log, next) : next())),
      )
      .forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
