import { NestFactory } from '@nestjs/core';
import { AppLogger, assertDatabaseReachable, bootSummary, loadConfig } from '@app/core';
import { SdNextBackends } from '@app/generation';
import { WorkerModule } from './worker.module.js';

/** Longest wait per SD.Next request while the boot summary probes the backends. */
const BOOT_PROBE_TIMEOUT_MS = 1500;

export async function bootstrap(): Promise<void> {
  const config = loadConfig();
  if (!config.redis) {
    process.stderr.write('The worker needs REDIS_URL (scale-out mode); in embedded mode the API runs jobs itself.\n');
    process.exit(2);
  }
  await assertDatabaseReachable(config);
  const app = await NestFactory.create(WorkerModule, { bufferLogs: true });
  const logger = app.get(AppLogger);
  app.useLogger(logger);
  app.enableShutdownHooks();
  const backends = await app.get(SdNextBackends).reachability(BOOT_PROBE_TIMEOUT_MS);
  // Health and metrics only; the worker takes no API traffic.
  await app.listen(config.workerPort, config.host);
  const summary = bootSummary(
    config,
    `Worker ${process.pid} ready; health on http://${config.host}:${config.workerPort}/health/ready`,
    {
      backends,
      auth: false,
    },
  );
  logger.log(summary.text, 'Boot');
  for (const warning of summary.warnings) logger.warn(warning, 'Boot');
}
