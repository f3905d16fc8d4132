import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AppProcess, freePort } from './support/app-process.js';
import { tempDir } from './support/test-services.js';
import { webDistDir } from '../apps/api/src/web/web-app.js';

const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

describe('Web app served by the API', () => {
  const dir = tempDir('web-serving');
  let api: AppProcess;

  beforeAll(async () => {
    const port = await freePort();
    api = new AppProcess('api', { DATA_DIR: dir.path, PORT: String(port) }, port);
    api.start();
    await api.waitReady();
  });

  afterAll(async () => {
    await api.stop();
    dir.remove();
  });

  it('should serve index.html at / and revalidate it on every load', async () => {
    const res = await fetch(`${api.baseUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const body = await res.text();
    expect(body).toContain('<div id="root"></div>');
    expect(body).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js"><\/script>/);
  });

  it('should serve hashed assets with a year of immutable cache', async () => {
    const script = readdirSync(join(webDistDir(), 'assets')).find((f) => /^index-.*\.js$/.test(f));
    expect(script).toBeDefined();
    const res = await fetch(`${api.baseUrl}/assets/${script}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('javascript');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const missing = await fetch(`${api.baseUrl}/assets/index-nothere.js`, { headers: HTML });
    expect(missing.status).toBe(404);
  });

  it('should answer client-side routes with index.html for a browser navigation', async () => {
    for (const path of ['/library', '/adapters/8d0e4c52-0000-4000-8000-000000000000', '/studio?x=1']) {
      const res = await fetch(`${api.baseUrl}${path}`, { headers: HTML });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(await res.text()).toContain('<div id="root"></div>');
    }
  });

  it('should never shadow the API, docs, probes or metrics', async () => {
    const apiMiss = await fetch(`${api.baseUrl}/api/v1/no-such-route`, { headers: HTML });
    expect(apiMiss.status).toBe(404);
    expect(apiMiss.headers.get('content-type')).toContain('application/json');
    const list = await fetch(`${api.baseUrl}/api/v1/adapters`, { headers: HTML });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { items: unknown[] }).items).toEqual([]);
    const docs = await fetch(`${api.baseUrl}/docs-json`, { headers: HTML });
    expect(((await docs.json()) as { openapi: string }).openapi).toMatch(/^3\./);
    const swagger = await fetch(`${api.baseUrl}/docs`, { headers: HTML });
    expect(await swagger.text()).toContain('swagger');
    const ready = await fetch(`${api.baseUrl}/health/ready`, { headers: HTML });
    expect(((await ready.json()) as { status: string }).status).toBe('ok');
    const metrics = await fetch(`${api.baseUrl}/metrics`, { headers: HTML });
    expect(await metrics.text()).toContain('# HELP');
    const socket = await fetch(`${api.baseUrl}/socket.io/?EIO=4&transport=polling`, { headers: HTML });
    expect(await socket.text()).not.toContain('<div id="root">');
  });

  it('should leave non-GET requests and non-HTML requests to unknown paths to the API', async () => {
    const post = await fetch(`${api.baseUrl}/library`, { method: 'POST', headers: HTML });
    expect(post.status).toBeGreaterThanOrEqual(400);
    expect(await post.text()).not.toContain('<div id="root">');
    const json = await fetch(`${api.baseUrl}/library`, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(404);
  });
});
