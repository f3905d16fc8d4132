import type { Redis, RedisOptions } from 'ioredis';

/** BullMQ needs `maxRetriesPerRequest: null` on connections that block (workers, queue events). */
export function redisOptions(): RedisOptions {
  return {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    // Reconnect forever with a capped delay: Redis restarts must not need an app restart.
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
  };
}

/** ioredis is loaded on first use: embedded processes never open a Redis connection. */
export async function createRedis(url: string): Promise<Redis> {
  const { Redis } = await import('ioredis');
  return new Redis(url, redisOptions());
}

export const cancelChannel = (prefix: string): string => `${prefix}:job-cancel`;

/** A BullMQ job failed with this reason prefix was cancelled, not broken. */
export const CANCELLED_REASON = 'cancelled:';

/** Connection options for BullMQ objects that open their own (blocking) connection. */
export function bullConnection(url: string): {
  url: string;
  maxRetriesPerRequest: null;
  retryStrategy: (times: number) => number;
} {
  return { url, maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(times * 200, 2000) };
}
