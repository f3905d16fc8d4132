import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { MetricsService } from '@app/core';
import type { Request, Response } from 'express';
import { type Observable, tap } from 'rxjs';

/** Times every HTTP request by route template (never the raw URL: ids would explode the label set). */
@Injectable()
export class MetricsInterceptor implements NestInterceptor {
  constructor(private readonly metrics: MetricsService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const started = process.hrtime.bigint();
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const record = (status: number) => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      this.metrics.httpRequests.observe(
        { method: req.method, route, status: String(status) },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    };
    return next.handle().pipe(
      tap({
        next: () => record(http.getResponse<Response>().statusCode),
        error: (error: { status?: number; getStatus?: () => number }) =>
          record(typeof error?.getStatus === 'function' ? error.getStatus() : (error?.status ?? 500)),
      }),
    );
  }
}
