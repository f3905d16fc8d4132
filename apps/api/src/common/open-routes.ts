import { applyDecorators } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiSecurity,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { HealthController, Public } from '@app/core/http';
import { HealthDto, LiveDto } from './health.dto.js';

/** Open to anyone; the OpenAPI document says so with an empty security requirement (`declareSecurity`). */
export const OpenRoute = (): MethodDecorator & ClassDecorator => applyDecorators(Public(), ApiSecurity({}));

type Handler = keyof HealthController;

/** Applies method decorators to one of the health routes' handlers. */
function decorate(handler: Handler, ...decorators: MethodDecorator[]): void {
  const descriptor = Object.getOwnPropertyDescriptor(HealthController.prototype, handler);
  if (!descriptor) throw new Error(`HealthController has no handler ${handler}`);
  for (const d of decorators) d(HealthController.prototype, handler, descriptor);
}

let documented = false;

/**
 * The OpenAPI description of the health routes, which core keeps free of `@nestjs/swagger` so that workers need
 * not load it (libs/core/src/health/health.routes.ts). Called once by the API module, before any document is built.
 */
export function documentHealthRoutes(): void {
  if (documented) return;
  documented = true;
  applyDecorators(ApiTags('health'), ApiSecurity({}))(HealthController);
  decorate('live', ApiOperation({ summary: 'The process is up.' }), ApiOkResponse({ type: LiveDto }));
  decorate(
    'ready',
    ApiOperation({
      summary:
        'The database answers and has every migration, Redis answers when configured, storage is writable; 503 otherwise.',
    }),
    ApiOkResponse({ type: HealthDto }),
    ApiServiceUnavailableResponse({ type: HealthDto }),
  );
  decorate(
    'metricsText',
    ApiOperation({ summary: 'Prometheus text exposition.' }),
    ApiProduces('text/plain'),
    ApiOkResponse({ schema: { type: 'string' }, description: 'Prometheus text format' }),
  );
}
