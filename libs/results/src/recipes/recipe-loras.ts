import { Injectable } from '@nestjs/common';
import { type AdapterEntity, AdapterRepository } from '@app/adapters';
import type { RecipeLora } from './recipe.entity.js';

/** How a LoRA of a recipe was found in the library. */
export type LoraMatch = 'hash' | 'name' | 'id' | 'ambiguous' | 'missing';

export interface MatchedLora extends RecipeLora {
  match: LoraMatch;
  /** The library adapter's display name when mapped. */
  adapterName: string | null;
}

function hashMatches(adapter: AdapterEntity, hash: string): boolean {
  const h = hash.toLowerCase();
  if (adapter.sha256 === h || adapter.autoV2 === h) return true;
  if (h.length < 64 && adapter.sha256?.startsWith(h)) return true;
  return h.length <= 12 && !!adapter.autoV3?.startsWith(h);
}

/** Maps recipe LoRAs to library adapters: by id while it is live, else by hash, else by token name or alias. */
@Injectable()
export class RecipeLoraMatcher {
  constructor(private readonly adapters: AdapterRepository) {}

  async match(loras: RecipeLora[]): Promise<MatchedLora[]> {
    const ids = loras.map((l) => l.adapterId).filter((id): id is string => !!id);
    const byId = new Map((await this.adapters.findByIds(ids)).filter((a) => !a.missingSince).map((a) => [a.id, a]));
    const hashesOf = (l: RecipeLora): string[] =>
      [l.sha256, l.autov2, l.hash].filter((h): h is string => !!h).map((h) => h.toLowerCase());
    const open = loras.filter((l) => !(l.adapterId && byId.has(l.adapterId)));
    const byHash = await this.adapters.findByHashes(open.flatMap(hashesOf));
    const names = open.flatMap((l) => [l.name, l.name.replace(/\./g, '_')]);
    const claimants = await this.adapters.findNameClaimants(names);
    return loras.map((lora) => {
      const live = lora.adapterId ? byId.get(lora.adapterId) : undefined;
      if (live) return this.mapped(lora, live, 'id');
      for (const hash of hashesOf(lora)) {
        const found = byHash.filter((a) => hashMatches(a, hash));
        if (found.length >= 1) return this.mapped(lora, found[0], 'hash');
      }
      const claims = claimants.filter((a) =>
        [a.loraStem, a.loraName, a.loraAlias].some((n) => n === lora.name || n === lora.name.replace(/\./g, '_')),
      );
      if (claims.length === 1) return this.mapped(lora, claims[0], 'name');
      return { ...lora, adapterId: null, adapterName: null, match: claims.length > 1 ? 'ambiguous' : 'missing' };
    });
  }

  private mapped(lora: RecipeLora, adapter: AdapterEntity, match: LoraMatch): MatchedLora {
    return {
      ...lora,
      name: lora.name || adapter.loraStem,
      adapterId: adapter.id,
      sha256: adapter.sha256 ?? lora.sha256,
      autov2: adapter.autoV2 ?? adapter.sha256?.slice(0, 10) ?? lora.autov2,
      adapterName: adapter.name,
      match,
    };
  }
}

/** The stored form of a matched LoRA. */
export function storedLora(l: MatchedLora): RecipeLora {
  return { adapterId: l.adapterId, name: l.name, weight: l.weight, sha256: l.sha256, autov2: l.autov2, hash: l.hash };
}
