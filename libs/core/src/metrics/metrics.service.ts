import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** One Prometheus registry per process; `/metrics` renders it. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpRequests = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route template and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly jobs = new Counter({
    name: 'jobs_total',
    help: 'Jobs finished by name and outcome (completed, failed, retried, cancelled)',
    labelNames: ['name', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly jobDuration = new Histogram({
    name: 'job_duration_seconds',
    help: 'Job run time by name',
    labelNames: ['name'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
    registers: [this.registry],
  });

  readonly jobsRequeued = new Counter({
    name: 'jobs_requeued_total',
    help: 'Jobs re-enqueued by the scale-out reconciler because Redis had lost them, by name',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });

  readonly deliveries = new Counter({
    name: 'deliveries_total',
    help: 'Delivery attempts by backend and outcome (succeeded, failed, cancelled, retried)',
    labelNames: ['backend', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly civitaiRequests = new Counter({
    name: 'civitai_requests_total',
    help: 'Requests to Civitai by endpoint and status (an HTTP status, or timeout, connection_error, too_large)',
    labelNames: ['endpoint', 'status'] as const,
    registers: [this.registry],
  });

  readonly civitaiRateLimitWait = new Counter({
    name: 'civitai_rate_limit_wait_seconds_total',
    help: 'Seconds Civitai calls waited for the token bucket or a 429 Retry-After, by reason (bucket, retry_after)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly civitaiCache = new Counter({
    name: 'civitai_cache_total',
    help: 'Civitai answers by cache outcome (hit, miss)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly results = new Counter({
    name: 'generation_results_total',
    help: 'Generation results recorded, deleted and exported (event: created, deleted, record_failed, exported)',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });

  readonly resultBytes = new Counter({
    name: 'generation_result_bytes_total',
    help: 'Bytes of generated images recorded as results',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
