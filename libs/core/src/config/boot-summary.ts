import { existsSync, statSync } from 'node:fs';
import { type AppConfig, ApiExposure, apiExposure, databaseLocation, Role, storageLocation } from './app-config.js';

/** One SD.Next backend as a short boot-time probe found it. */
export interface BackendReachability {
  id: string;
  url: string;
  reachable: boolean;
  /** `SD.Next`, `A1111`, or why it is not reachable. */
  detail: string;
}

export interface BootSummary {
  /** One block: a headline and aligned `label  value` lines. */
  text: string;
  /** Things an operator should fix (a missing library root, an unreachable backend); each is logged as a warning. */
  warnings: string[];
}

const rootState = (path: string): 'exists' | 'missing' | 'not a folder' => {
  if (!existsSync(path)) return 'missing';
  return statSync(path).isDirectory() ? 'exists' : 'not a folder';
};

function authLine(config: AppConfig): string {
  switch (apiExposure(config)) {
    case ApiExposure.Keys: {
      const byRole = Object.values(Role)
        .map((role) => [role, config.apiKeys.filter((k) => k.role === role).length] as const)
        .filter(([, n]) => n > 0)
        .map(([role, n]) => `${n} ${role}`);
      return `${config.apiKeys.length} API key(s): ${byRole.join(', ')}`;
    }
    case ApiExposure.OpenLoopback:
      return `open (no API_KEYS), listening on ${config.host} only`;
    case ApiExposure.OpenNetwork:
      return `open (no API_KEYS) on ${config.host}: ALLOW_OPEN_NETWORK=true`;
    case ApiExposure.Refused:
      return `refused: no API_KEYS on ${config.host}`;
  }
}

/**
 * What a process runs with, said once at boot: mode, database, data dir, library roots, SD.Next backends and (for the
 * API) who may call it.
 */
export function bootSummary(
  config: AppConfig,
  headline: string,
  options: { backends: BackendReachability[]; auth: boolean },
): BootSummary {
  const warnings: string[] = [];
  const lines: [string, string][] = [
    ['mode', config.redis ? 'scale-out (PostgreSQL, BullMQ on Redis)' : 'embedded (SQLite, in-process jobs)'],
    ['database', databaseLocation(config)],
    ['data dir', config.dataDir],
    ['storage', storageLocation(config)],
  ];
  if (config.loraRoots.length === 0) lines.push(['library', 'no roots (set LORA_ROOTS)']);
  for (const root of config.loraRoots) {
    const state = rootState(root);
    lines.push(['library', `${root} (${state})`]);
    if (state !== 'exists')
      warnings.push(`Library root ${root} is ${state} (LORA_ROOTS): nothing under it can be imported or served`);
  }
  if (options.backends.length === 0) lines.push(['SD.Next', 'none (set SDNEXT_URL)']);
  for (const b of options.backends) {
    lines.push(['SD.Next', `${b.id} ${b.url} ${b.reachable ? 'reachable' : 'not reachable'} (${b.detail})`]);
    if (!b.reachable) warnings.push(`SD.Next backend ${b.id} (${b.url}) is not reachable: ${b.detail}`);
  }
  if (options.auth) lines.push(['auth', authLine(config)]);
  const width = Math.max(...lines.map(([label]) => label.length));
  return {
    text: [headline, ...lines.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)].join('\n'),
    warnings,
  };
}
