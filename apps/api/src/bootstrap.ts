import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  AppLogger,
  assertDatabaseReachable,
  bootSummary,
  loadConfig,
  openNetworkRefusal,
  SessionService,
} from '@app/core';
import { SdNextBackends } from '@app/generation';
import { ApiModule } from './api.module.js';
import { configureApp } from './app-setup.js';

/** Longest wait per SD.Next request while the boot summary probes the backends. */
const BOOT_PROBE_TIMEOUT_MS = 1500;

export async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const refusal = openNetworkRefusal(config);
  if (refusal) throw refusal;
  await assertDatabaseReachable(config);
  const app = await NestFactory.create<NestExpressApplication>(ApiModule, { bufferLogs: true, bodyParser: false });
  await configureApp(app);
  const backends = await app.get(SdNextBackends).reachability(BOOT_PROBE_TIMEOUT_MS);
  await app.listen(config.port, config.host);
  const logger = app.get(AppLogger);
  const headline = `LoRA Manager API listening on http://${config.host}:${config.port} (docs at /docs)`;
  const summary = bootSummary(config, headline, { backends, auth: true });
  logger.log(summary.text, 'Boot');
  for (const warning of summary.warnings) logger.warn(warning, 'Boot');
  if (config.apiKeys.length > 0 && app.get(SessionService).secretIsEphemeral) {
    logger.warn(
      'SESSION_SECRET is unset: browser sessions end when this process stops and are valid on this instance only. Set it (32+ characters) to keep them across restarts and instances.',
    );
  }
}
