import { Inject, Injectable } from '@nestjs/common';
import {
  APP_CONFIG,
  type AppConfig,
  mapStrings,
  type ProgressMessage,
  redactUrlSecrets,
  type Role,
  seesSecrets,
} from '@app/core';
import { LibraryRoots } from '@app/adapters';
import type { DeliveryBackendInfo } from './delivery-backend.js';
import { DeliveryMode } from './delivery-job.entity.js';

/** The parts of a delivery that can carry secrets. */
export interface DeliverySecrets {
  mode: string;
  params: object;
  result: object | null;
  error: string | null;
}

const HIDDEN_COMMAND = '[command]';

/**
 * What roles below admin are shown of stored work, over REST and Socket.IO alike: URLs without userinfo, query or
 * fragment (webhook tokens), CLI deliveries without command, arguments and output, library paths relative to their
 * root. Admins see everything.
 */
@Injectable()
export class DisclosurePolicy {
  private readonly commands: string[];

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly roots: LibraryRoots,
  ) {
    this.commands = [...config.delivery.cliCommands].sort((a, b) => b.length - a.length);
  }

  /** A text as `role` may read it. */
  text(role: Role, text: string): string {
    if (seesSecrets(role)) return text;
    let out = redactUrlSecrets(this.roots.relativeToRoots(text));
    for (const command of this.commands) out = out.split(command).join(HIDDEN_COMMAND);
    return out;
  }

  /** A JSON-like value with every string in it as `role` may read it. */
  value<T>(role: Role, value: T): T {
    return seesSecrets(role) ? value : mapStrings(value, (s) => this.text(role, s));
  }

  /** A delivery as `role` may read it: for a CLI delivery, no command, arguments or output below admin. */
  delivery<T extends DeliverySecrets>(role: Role, job: T): T {
    if (seesSecrets(role)) return job;
    const params = this.value(role, job.params) as Record<string, unknown>;
    const result = this.value(role, job.result) as Record<string, unknown> | null;
    const cli = job.mode === (DeliveryMode.Cli as string);
    return {
      ...job,
      params: cli ? { ...params, command: null, args: null } : params,
      result: cli && result ? { ...result, stdout: null, stderr: null } : result,
      error: job.error === null ? null : this.text(role, job.error),
    };
  }

  /** Backends as `role` may see them: allowed URL prefixes and executables are for admins only. */
  backends(role: Role, backends: DeliveryBackendInfo[]): DeliveryBackendInfo[] {
    if (seesSecrets(role)) return backends;
    return backends.map((b) =>
      b.name === (DeliveryMode.Http as string) || b.name === (DeliveryMode.Cli as string) ? { ...b, allowList: [] } : b,
    );
  }

  /** A progress event as `role` may receive it. */
  event(role: Role, message: ProgressMessage): ProgressMessage {
    return seesSecrets(role)
      ? message
      : ({ event: message.event, payload: this.value(role, message.payload) } as ProgressMessage);
  }
}
