import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfig, SessionService } from '@app/core';
import { Logger } from 'nestjs-pino';
import { ApiModule } from './api.module.js';
import { configureApp } from './app-setup.js';

export async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const app = await NestFactory.create<NestExpressApplication>(ApiModule, { bufferLogs: true, bodyParser: false });
  await configureApp(app);
  await app.listen(config.port, config.host);
  const logger = app.get(Logger);
  const mode = config.redis ? 'scale-out (PostgreSQL/Redis, BullMQ workers)' : 'embedded (in-process jobs)';
  logger.log(`LoRA Manager API listening on http://${config.host}:${config.port} in ${mode} mode; docs at /docs`);
  if (config.loopbackOnly) {
    logger.warn('No API_KEYS configured: the API is open and listens on 127.0.0.1 only. Set API_KEYS to expose it.');
  }
  if (config.apiKeys.length > 0 && app.get(SessionService).secretIsEphemeral) {
    logger.warn(
      'SESSION_SECRET is unset: browser sessions end when this process stops and are valid on this instance only. Set it (32+ characters) to keep them across restarts and instances.',
    );
  }
}
