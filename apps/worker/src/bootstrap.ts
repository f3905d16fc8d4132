import { NestFactory } from '@nestjs/core';
import { loadConfig } from '@app/core';
import { Logger } from 'nestjs-pino';
import { WorkerModule } from './worker.module.js';

export async function bootstrap(): Promise<void> {
  const config = loadConfig();
  if (!config.redis) {
    process.stderr.write('The worker needs REDIS_URL (scale-out mode); in embedded mode the API runs jobs itself.\n');
    process.exit(2);
  }
  const app = await NestFactory.create(WorkerModule, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  // Health and metrics only; the worker takes no API traffic.
  await app.listen(config.workerPort, config.host);
  app.get(Logger).log(`Worker ${process.pid} ready; health on http://${config.host}:${config.workerPort}/health/ready`);
}
