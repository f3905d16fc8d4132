import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';

/**
 * Writes the OpenAPI document the API serves at `/docs-json` to the file given as the first argument, without
 * listening: the app is built on a throw-away embedded database, so the document is the one of the real modules.
 */
const target = resolve(process.argv[2] ?? 'openapi.json');
const dataDir = mkdtempSync(join(tmpdir(), 'lm-openapi-'));
// This tool owns its environment: an empty embedded instance whatever the caller's shell has set.
for (const name of ['DATABASE_URL', 'REDIS_URL', 'API_KEYS', 'LORA_ROOTS', 'SDNEXT_URL', 'SDNEXT_BACKENDS'])
  delete process.env[name];
Object.assign(process.env, { DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
try {
  const { NestFactory } = await import('@nestjs/core');
  const { ApiModule } = await import('./api.module.js');
  const { configureApp } = await import('./app-setup.js');
  const app = await NestFactory.create<NestExpressApplication>(ApiModule, { logger: false, bodyParser: false });
  const document = await configureApp(app);
  writeFileSync(target, `${JSON.stringify(document(), null, 2)}\n`);
  await app.close();
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
