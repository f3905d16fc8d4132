import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { useJsonBodies } from './common/request-body.js';
import { answerUnknownPathsWithJson, rejectWrongMethods, RouteTable } from './common/route-fallback.js';
import { serveWebApp } from './web/web-app.js';

export const API_PREFIX = 'api/v1';

/** Everything main.ts does to the app besides listening (it initialises it); tests call it too so they test the real thing. */
export async function configureApp(app: NestExpressApplication): Promise<OpenAPIObject> {
  app.useLogger(app.get(Logger));
  app.setGlobalPrefix(API_PREFIX, { exclude: ['health/live', 'health/ready', 'metrics'] });
  app.enableShutdownHooks();
  serveWebApp(app);
  const config = new DocumentBuilder()
    .setTitle('LoRA Manager')
    .setDescription('Index, search and compose Stable Diffusion LoRA adapters; run generations and deliveries.')
    .setVersion('1')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'apiKey')
    .addBearerAuth()
    .addSecurityRequirements('apiKey')
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    // Stable operation ids: `<Controller>_<method>`.
    operationIdFactory: (controllerKey, methodKey) => `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
  app.use(rejectWrongMethods(RouteTable.fromDocument(document)));
  useJsonBodies(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  await app.init();
  answerUnknownPathsWithJson(app);
  return document;
}
