import type { HealthStatus, LiveStatus } from '@app/core/http';

/** {@link LiveStatus} as the OpenAPI document describes it. */
export class LiveDto implements LiveStatus {
  /** @example ok */
  status: string;
}

/** {@link HealthStatus} as the OpenAPI document describes it. */
export class HealthDto implements HealthStatus {
  /** `ok` or `error` */
  status: string;
  info?: Record<string, { status: string; message?: string }>;
  error?: Record<string, { status: string; message?: string }>;
  details: Record<string, { status: string; message?: string }>;
}
