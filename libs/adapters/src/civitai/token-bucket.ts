/**
 * A token bucket: `ratePerSecond` tokens a second, at most `burst` saved up. `take` resolves when a token is free and
 * says how long it waited; callers queue in order.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt = Date.now();
  private queue: Promise<void> = Promise.resolve();
  /** No token before this moment (a 429's Retry-After holds every caller). */
  private pausedUntil = 0;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Holds every caller until `ms` from now. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
  }

  take(signal?: AbortSignal): Promise<number> {
    const started = Date.now();
    const turn = this.queue.then(() => this.next(signal));
    this.queue = turn.catch(() => undefined);
    return turn.then(() => Date.now() - started);
  }

  private async next(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = Date.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond);
      this.updatedAt = now;
      const paused = this.pausedUntil - now;
      if (paused <= 0 && this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      const wait = Math.max(paused, ((1 - this.tokens) / this.ratePerSecond) * 1000);
      await new Promise<void>((resolve) => setTimeout(resolve, Math.max(1, Math.ceil(wait))));
    }
  }
}
