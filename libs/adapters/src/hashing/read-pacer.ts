/** Sleeps so that reading stays at or below `bytesPerSecond` on average since `started`. */
export class ReadPacer {
  private readonly started = Date.now();
  private bytes = 0;

  constructor(private readonly bytesPerSecond: number | null) {}

  /** Counts `bytes` more read and waits as long as the cap asks. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    this.bytes += bytes;
    if (this.bytesPerSecond === null) return;
    const due = this.started + (this.bytes / this.bytesPerSecond) * 1000;
    const wait = due - Date.now();
    if (wait > 1) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
