import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DynamicModule, Module } from '@nestjs/common';
import { LogFormat, loadConfig, secretsOf } from '../config/app-config.js';
import { PinoLoggerModule } from './pino-logger.module.js';

/** Replaces every configured secret in a log line, wherever it appears. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out;
}

/**
 * pino for every app: pretty in a terminal, JSON with `LOG_FORMAT=json`; request ids from `X-Request-Id` or
 * new; credentials redacted from headers and from any message text.
 */
@Module({})
export class LoggingModule {
  static forRoot(app: 'api' | 'worker' | 'cli'): DynamicModule {
    const config = loadConfig();
    const secrets = secretsOf(config);
    return {
      module: LoggingModule,
      imports: [
        PinoLoggerModule.forRoot({
          pinoHttp: {
            name: `lora-manager-${app}`,
            level: config.log.level,
            transport:
              config.log.format === LogFormat.Pretty
                ? { target: 'pino-pretty', options: { singleLine: true, colorize: true } }
                : undefined,
            redact: {
              paths: [
                'req.headers["x-api-key"]',
                'req.headers.authorization',
                'req.headers.cookie',
                'res.headers["set-cookie"]',
              ],
              censor: '[redacted]',
            },
            genReqId: (req: IncomingMessage, res: ServerResponse) => {
              const given = req.headers['x-request-id'];
              const id = typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
              res.setHeader('X-Request-Id', id);
              return id;
            },
            autoLogging: {
              ignore: (req: IncomingMessage) => (req.url ?? '').startsWith('/health') || req.url === '/metrics',
            },
            serializers: {
              // The query string can carry a key (`?apiKey=`); log the path only.
              req: (req: { id: unknown; method: string; url: string }) => ({
                id: req.id,
                method: req.method,
                url: redactSecrets(req.url.split('?')[0] ?? '', secrets),
              }),
            },
            hooks: {
              logMethod(args: unknown[], method: (...a: unknown[]) => void) {
                method.apply(
                  this,
                  args.map((a) => (typeof a === 'string' ? redactSecrets(a, secrets) : a)),
                );
              },
            },
          },
        }),
      ],
      exports: [PinoLoggerModule],
    };
  }
}
