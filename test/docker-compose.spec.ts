import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parseDocument } from 'yaml';

const ROOT = resolve(import.meta.dirname, '..');

interface Service {
  image?: string;
  build?: string;
  restart?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  extra_hosts?: string[];
  depends_on?: Record<string, { condition: string }>;
}

/** Compose's `${VAR:-default}` / `${VAR:?message}` interpolation, for an environment where nothing is set. */
function interpolateUnset(value: string): string {
  return value.replace(/\$\{(\w+)(?::-([^}]*)|:\?[^}]*)?\}/g, (_m, name: string, fallback: string | undefined) => {
    if (fallback === undefined) throw new Error(`${name} is required`);
    return fallback;
  });
}

function loadCompose(): { services: Record<string, Service>; volumes: Record<string, unknown> } {
  const doc = parseDocument(readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8'));
  expect(doc.errors.map((e) => e.message)).toEqual([]);
  expect(doc.warnings.map((e) => e.message)).toEqual([]);
  return doc.toJS() as { services: Record<string, Service>; volumes: Record<string, unknown> };
}

describe('docker-compose.yml', () => {
  it('should be valid YAML with the postgres, redis, migrate, api and worker services', () => {
    const compose = loadCompose();
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'migrate', 'postgres', 'redis', 'worker']);
    expect(Object.keys(compose.volumes).sort()).toEqual(['appdata', 'pgdata', 'redisdata']);
  });

  it('should restart long-running services unless stopped, and run the migration once', () => {
    const { services } = loadCompose();
    for (const name of ['postgres', 'redis', 'api', 'worker'])
      expect({ name, restart: services[name].restart }).toEqual({ name, restart: 'unless-stopped' });
    expect(services.migrate.restart).toBe('no');
    expect(services.migrate.command).toEqual(['node', 'dist/apps/cli/bundle/main.js', 'migrate']);
    for (const name of ['api', 'worker']) {
      expect(services[name].depends_on?.migrate).toEqual({ condition: 'service_completed_successfully' });
    }
  });

  it('should publish the API on a fixed host port and mount the data volume and the library on api and worker', () => {
    const { services } = loadCompose();
    expect(services.api.ports?.map(interpolateUnset)).toEqual(['3000:3000']);
    expect(services.worker.ports).toBeUndefined();
    for (const name of ['api', 'worker']) {
      expect(services[name].volumes?.map(interpolateUnset)).toEqual(['appdata:/data', './loras:/loras:ro']);
      expect(services[name].extra_hosts).toEqual(['host.docker.internal:host-gateway']);
      expect(services[name].environment).toMatchObject({
        DATA_DIR: '/data',
        LORA_ROOTS: '/loras',
        REDIS_URL: 'redis://redis:6379',
      });
    }
  });

  it('should refuse to start without API_KEYS, since the API listens on the container network', () => {
    const { services } = loadCompose();
    expect(services.api.environment?.API_KEYS).toMatch(/^\$\{API_KEYS:\?/);
    expect(() => interpolateUnset(services.api.environment?.API_KEYS ?? '')).toThrow('API_KEYS is required');
  });
});
