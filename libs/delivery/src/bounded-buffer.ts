/** Collects bytes up to a cap and counts the rest, so a chatty peer cannot exhaust memory. */
export class BoundedBuffer {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private seen = 0;

  constructor(readonly cap: number) {}

  /** Keeps what fits; returns false once the cap is exceeded. */
  push(chunk: Buffer): boolean {
    this.seen += chunk.length;
    const room = this.cap - this.kept;
    if (room > 0) {
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.chunks.push(part);
      this.kept += part.length;
    }
    return this.seen <= this.cap;
  }

  get truncated(): boolean {
    return this.seen > this.cap;
  }

  /** Bytes received, including those dropped (only as far as they were read). */
  get bytesSeen(): number {
    return this.seen;
  }

  text(): string {
    return Buffer.concat(this.chunks, this.kept).toString('utf8');
  }
}
