import { Injectable } from '@nestjs/common';
import { LoraNameSource } from '@app/composition';
import { SdNextBackends } from './sdnext-backends.js';

const CACHE_MS = 30_000;

/** The LoRA names each SD.Next backend lists, cached briefly: `/sdapi/v1/loras` can be megabytes. */
@Injectable()
export class SdNextLoraNames extends LoraNameSource {
  private readonly cache = new Map<string, { at: number; names: string[] }>();

  constructor(private readonly backends: SdNextBackends) {
    super();
  }

  backendIds(): string[] {
    return this.backends.ids();
  }

  async loraNames(backendId: string): Promise<string[] | null> {
    const hit = this.cache.get(backendId);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.names;
    try {
      const names = (await this.backends.get(backendId).client.loras()).map((l) => l.name);
      this.cache.set(backendId, { at: Date.now(), names });
      return names;
    } catch {
      // Unreachable or failing: the composition goes ahead unchecked and says so (`checkedAgainst: null`).
      return null;
    }
  }
}
