import { Controller, Get, Header, HttpCode, Res } from '@nestjs/common';
import type { Response } from 'express';
import { MetricsService } from '../metrics/metrics.service.js';
import { Public } from '../security/roles.decorator.js';
import { ReadinessService } from './readiness.service.js';

/** `/health/live`'s answer. */
export interface LiveStatus {
  status: string;
}

/** `/health/ready`'s answer: terminus's check result. */
export interface HealthStatus {
  status: string;
  info?: Record<string, { status: string; message?: string }>;
  error?: Record<string, { status: string; message?: string }>;
  details: Record<string, { status: string; message?: string }>;
}

/**
 * The probes and metrics, served by the API and by each worker on its own port. Deliberately not a
 * `*.controller.ts` and free of `@nestjs/swagger`: the swagger compiler plugin would add its import to the file, and
 * loading swagger costs a worker ~0.4 s of start-up. The API documents these routes (`documentHealthRoutes`).
 */
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly readiness: ReadinessService,
    private readonly metrics: MetricsService,
  ) {}

  @Get('health/live')
  live(): LiveStatus {
    return { status: 'ok' };
  }

  @Get('health/ready')
  async ready(@Res({ passthrough: true }) res: Response): Promise<HealthStatus> {
    try {
      return (await this.readiness.check()) as HealthStatus;
    } catch (error) {
      // Terminus throws ServiceUnavailableException carrying the failed check result.
      res.status(503);
      return (error as { getResponse?: () => unknown }).getResponse?.() as HealthStatus;
    }
  }

  @Get('metrics')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  async metricsText(@Res({ passthrough: true }) res: Response): Promise<string> {
    res.type(this.metrics.contentType);
    return this.metrics.render();
  }
}
