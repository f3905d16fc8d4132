import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import { type AppConfig, Role } from '../config/app-config.js';

const rank: Record<Role, number> = { [Role.Viewer]: 1, [Role.Editor]: 2, [Role.Admin]: 3 };

export function roleSatisfies(actual: Role, required: Role): boolean {
  return rank[actual] >= rank[required];
}

export interface Principal {
  role: Role;
  /** A short non-reversible id of the key, safe to log. */
  keyId: string;
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Checks API keys in constant time; shared by the HTTP guard and the Socket.IO gateway. */
@Injectable()
export class ApiKeyService {
  private readonly keys: { digest: Buffer; role: Role; keyId: string }[];

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.keys = config.apiKeys.map((k) => ({
      digest: digest(k.key),
      role: k.role,
      keyId: digest(k.key).toString('hex').slice(0, 8),
    }));
  }

  /** With no keys configured the API is open, and it listens on 127.0.0.1 only. */
  get enabled(): boolean {
    return this.keys.length > 0;
  }

  verify(presented: string | undefined | null): Principal | null {
    if (!this.enabled) return { role: Role.Admin, keyId: 'local' };
    if (!presented) return null;
    const d = digest(presented);
    let match: Principal | null = null;
    for (const k of this.keys) {
      if (timingSafeEqual(k.digest, d)) match = { role: k.role, keyId: k.keyId };
    }
    return match;
  }

  /** The principal of the configured key with this id (sessions carry the id, never the key); null when none or ambiguous. */
  byKeyId(keyId: string): Principal | null {
    const found = this.keys.filter((k) => k.keyId === keyId);
    return found.length === 1 ? { role: found[0].role, keyId } : null;
  }

  /** `X-API-Key: <key>` or `Authorization: Bearer <key>`. */
  static fromHeaders(headers: Record<string, string | string[] | undefined>): string | undefined {
    const direct = headers['x-api-key'];
    if (typeof direct === 'string' && direct.length > 0) return direct;
    const auth = headers['authorization'];
    if (typeof auth === 'string') {
      const m = /^Bearer\s+(.+)$/i.exec(auth);
      if (m) return m[1].trim();
    }
    return undefined;
  }
}
