export class LiveDto {
  /** @example ok */
  status: string;
}

export class HealthDto {
  /** `ok` or `error` */
  status: string;
  info?: Record<string, { status: string; message?: string }>;
  error?: Record<string, { status: string; message?: string }>;
  details: Record<string, { status: string; message?: string }>;
}
