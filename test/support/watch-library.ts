// What the folder-watcher tests and the watcher benchmark share: reading the library and its import runs over
// HTTP, and waiting for what the watcher should make happen.
import { buildSafetensors } from './corpus-builder.js';
import { waitFor } from './test-services.js';

export { waitFor };

export interface ImportRunView {
  id: string;
  status: string;
  roots: string[];
  createdAt: string;
  counts: { seen: number; added: number; updated: number; missing: number; restored: number; failed: number };
  failures: { path: string; reason: string }[];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A small LoRA file's bytes, distinct per seed. */
export const loraBytes = (seed: string): Buffer =>
  buildSafetensors({ seed, metadata: { ss_output_name: seed, ss_network_module: 'networks.lora' } }).bytes;

export class LibraryClient {
  constructor(private readonly baseUrl: string) {}

  private async json<T>(path: string): Promise<T> {
    const res = await fetch(`${this.baseUrl}/api/v1/${path}`);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  /** Live adapters (or tombstones with `missing`), optionally matching `q`. */
  async total(options: { q?: string; missing?: boolean } = {}): Promise<number> {
    const query = new URLSearchParams({ limit: '1' });
    if (options.q) query.set('q', options.q);
    if (options.missing !== undefined) query.set('missing', String(options.missing));
    return (await this.json<{ total: number }>(`adapters?${query.toString()}`)).total;
  }

  /** Import runs, newest first. */
  runs(): Promise<ImportRunView[]> {
    return this.json<ImportRunView[]>('imports');
  }

  /** Waits until every import run has ended. */
  async idle(timeoutMs = 30_000): Promise<ImportRunView[]> {
    let runs: ImportRunView[] = [];
    await waitFor(
      'import runs to end',
      async () => {
        runs = await this.runs();
        return runs.every((r) => r.status === 'completed' || r.status === 'failed');
      },
      timeoutMs,
      100,
    );
    return runs;
  }
}
