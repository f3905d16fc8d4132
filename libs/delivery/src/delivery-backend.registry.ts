import { Inject, Injectable } from '@nestjs/common';
import type { DeliveryBackend } from './delivery-backend.js';

/** Every backend instance, provided by `DeliveryModule` from its list of backend classes. */
export const DELIVERY_BACKENDS = Symbol('DELIVERY_BACKENDS');

/** Finds a backend by the name stored in a delivery's `mode`. */
@Injectable()
export class DeliveryBackendRegistry {
  private readonly byName = new Map<string, DeliveryBackend>();

  constructor(@Inject(DELIVERY_BACKENDS) backends: DeliveryBackend[]) {
    for (const backend of backends) {
      if (this.byName.has(backend.name)) throw new Error(`Two delivery backends are named "${backend.name}"`);
      this.byName.set(backend.name, backend);
    }
  }

  get(name: string): DeliveryBackend | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): DeliveryBackend[] {
    return [...this.byName.values()];
  }
}
