import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, type BackendReachability } from '@app/core';
import { SdBackendFlavour, SdNextClient } from './sdnext/index.js';

/** How long a backend that refused a connection is passed over when another one is free. */
const DOWN_FOR_MS = 30_000;

export interface SdNextBackend {
  id: string;
  client: SdNextClient;
}

/** The configured SD.Next servers (`SDNEXT_URL`, in order: `sdnext-0`, `sdnext-1`, …), one client each. */
@Injectable()
export class SdNextBackends {
  private readonly backends: SdNextBackend[];
  private readonly downUntil = new Map<string, number>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.backends = config.sdnext.backends.map((b) => ({
      id: b.id,
      client: new SdNextClient({
        baseUrl: b.url,
        auth: config.sdnext.auth ?? undefined,
        requestTimeoutMs: config.sdnext.timeoutMs,
        shortTimeoutMs: Math.min(10_000, config.sdnext.timeoutMs),
        maxResponseBytes: config.sdnext.maxResponseBytes,
      }),
    }));
  }

  /** Every backend probed at once with a short timeout per request, for the boot summary. */
  async reachability(timeoutMs: number): Promise<BackendReachability[]> {
    return Promise.all(
      this.config.sdnext.backends.map(async (b) => {
        const client = new SdNextClient({
          baseUrl: b.url,
          auth: this.config.sdnext.auth ?? undefined,
          shortTimeoutMs: timeoutMs,
        });
        const probe = await client.probe();
        const reachable = probe.reachable && !probe.error;
        const flavour = {
          [SdBackendFlavour.SdNext]: 'SD.Next',
          [SdBackendFlavour.A1111]: 'A1111',
          [SdBackendFlavour.Unknown]: 'unknown API',
        };
        return {
          id: b.id,
          url: client.displayUrl,
          reachable,
          detail: reachable
            ? flavour[probe.flavour]
            : (probe.error?.message.replace(`SD.Next ${client.displayUrl} `, '') ?? 'no answer'),
        };
      }),
    );
  }

  all(): readonly SdNextBackend[] {
    return this.backends;
  }

  ids(): string[] {
    return this.backends.map((b) => b.id);
  }

  has(id: string): boolean {
    return this.backends.some((b) => b.id === id);
  }

  get(id: string): SdNextBackend {
    const backend = this.backends.find((b) => b.id === id);
    if (!backend) throw new Error(`Unknown SD.Next backend ${id}`);
    return backend;
  }

  /** Remembered in this process only: a hint for choosing a backend, never a reason to refuse one. */
  markDown(id: string): void {
    this.downUntil.set(id, Date.now() + DOWN_FOR_MS);
  }

  markUp(id: string): void {
    this.downUntil.delete(id);
  }

  isDown(id: string): boolean {
    return (this.downUntil.get(id) ?? 0) > Date.now();
  }
}
