import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { pinoHttp } from 'pino-http';
import { AppLogger } from './pino-logger.module.js';

function capture(level = 'debug'): { logger: AppLogger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = new AppLogger(pinoHttp({ level }, stream));
  const lines = () =>
    chunks
      .join('')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines };
}

describe(AppLogger.name, () => {
  it('should write Nest log calls as pino records with their context, level and error', () => {
    const { logger, lines } = capture();
    logger.log('ready', 'Boot');
    logger.warn('careful');
    logger.error(new Error('boom'), 'Jobs');
    logger.error('failed', 'Error: failed\n    at x (y.js:1:1)', 'ExceptionsHandler');
    expect(lines().map(({ level, msg, context }) => ({ level, msg, context }))).toEqual([
      { level: 30, msg: 'ready', context: 'Boot' },
      { level: 40, msg: 'careful', context: undefined },
      { level: 50, msg: 'boom', context: 'Jobs' },
      { level: 50, msg: 'failed', context: 'ExceptionsHandler' },
    ]);
    expect((lines()[2].err as { message: string }).message).toBe('boom');
    expect(lines()[3].stack).toContain('at x (y.js:1:1)');
  });

  it("should demote Nest's module list and route dump to debug", () => {
    const { logger, lines } = capture('info');
    logger.log('Mapped {/api/v1/adapters, GET} route', 'RouterExplorer');
    logger.log('AppModule dependencies initialized', 'InstanceLoader');
    logger.log('LoRA Manager API listening', 'Boot');
    expect(lines().map((l) => l.msg)).toEqual(['LoRA Manager API listening']);
  });
});
