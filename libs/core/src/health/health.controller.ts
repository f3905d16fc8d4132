import { Controller, Get, Header, HttpCode, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { MetricsService } from '../metrics/metrics.service.js';
import { Public } from '../security/roles.decorator.js';
import { ReadinessService } from './readiness.service.js';
import type { Response } from 'express';
import { HealthDto, LiveDto } from './health.dto.js';

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly readiness: ReadinessService,
    private readonly metrics: MetricsService,
  ) {}

  /** The process is up. */
  @Get('health/live')
  @ApiOkResponse({ type: LiveDto })
  live(): LiveDto {
    return { status: 'ok' };
  }

  /** The database answers and has every migration, Redis answers when configured, storage is writable; 503 otherwise. */
  @Get('health/ready')
  @ApiOkResponse({ type: HealthDto })
  @ApiServiceUnavailableResponse({ type: HealthDto })
  async ready(@Res({ passthrough: true }) res: Response): Promise<HealthDto> {
    try {
      return (await this.readiness.check()) as HealthDto;
    } catch (error) {
      // Terminus throws ServiceUnavailableException carrying the failed check result.
      res.status(503);
      return (error as { getResponse?: () => unknown }).getResponse?.() as HealthDto;
    }
  }

  /** Prometheus text exposition. */
  @Get('metrics')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiProduces('text/plain')
  @ApiOkResponse({ schema: { type: 'string' }, description: 'Prometheus text format' })
  async metricsText(@Res({ passthrough: true }) res: Response): Promise<string> {
    res.type(this.metrics.contentType);
    return this.metrics.render();
  }
}
