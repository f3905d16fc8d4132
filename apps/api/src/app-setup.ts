import type { NestExpressApplication } from '@nestjs/platform-express';
import { type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { APP_CONFIG, type AppConfig, AppLogger, WebAccessPolicy } from '@app/core';
import { RECIPE_DOCUMENT_IMAGE_BUDGET } from '@app/results';
import { useImageBodies, useJsonBodies } from './common/request-body.js';
import { webAccessMiddleware } from './common/web-access.middleware.js';
import { answerUnknownPathsWithJson, rejectWrongMethods, RouteTable } from './common/route-fallback.js';
import { serveWebApp } from './web/web-app.js';
import { buildOpenApiDocument } from './common/openapi.js';

export const API_PREFIX = 'api/v1';

/**
 * Everything main.ts does to the app besides listening (it initialises it); tests call it too so they test the real
 * thing. Returns the OpenAPI document's getter: the document is built on first use (`/docs`, `/docs-json`, the
 * export), not at start-up, where it took a large share of the time.
 */
export async function configureApp(app: NestExpressApplication): Promise<() => OpenAPIObject> {
  app.useLogger(app.get(AppLogger));
  // Host/Origin rules and JSON-only bodies before anything else; the app is created with `bodyParser: false`, so the
  // JSON parser of useJsonBodies is the only one (no form parser).
  app.use(webAccessMiddleware(app.get(WebAccessPolicy)));
  app.setGlobalPrefix(API_PREFIX, { exclude: ['health/live', 'health/ready', 'metrics'] });
  app.enableShutdownHooks();
  serveWebApp(app);
  let document: OpenAPIObject | undefined;
  const openApiDocument = (): OpenAPIObject => (document ??= buildOpenApiDocument(app));
  // The routes exist once init() has run; the first request reads them from the router.
  app.use(rejectWrongMethods(() => RouteTable.fromRoutes(routesOf(app))));
  // A recipe document carries its images in base64 (a third more), beside up to 1,000 recipes' fields.
  useJsonBodies(app, {
    [`/${API_PREFIX}/recipes/import`]: Math.ceil((RECIPE_DOCUMENT_IMAGE_BUDGET * 4) / 3) + 4 * 2 ** 20,
  });
  useImageBodies(app, app.get<AppConfig>(APP_CONFIG).recipeImageMaxBytes);
  SwaggerModule.setup('docs', app, openApiDocument, { jsonDocumentUrl: 'docs-json' });
  await app.init();
  answerUnknownPathsWithJson(app);
  return openApiDocument;
}

/** The routes Express holds for the app (Express 5: `app.router.stack`, one layer per route and method). */
function routesOf(app: NestExpressApplication): { path: unknown; methods: Record<string, boolean | undefined> }[] {
  const express = app.getHttpAdapter().getInstance() as {
    router: { stack: { route?: { path: unknown; methods: Record<string, boolean | undefined> } }[] };
  };
  return express.router.stack.flatMap((layer) => (layer.route ? [layer.route] : []));
}
