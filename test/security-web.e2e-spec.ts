import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { AppProcess, freePort } from './support/app-process.js';
import { tempDir } from './support/test-services.js';

const VIEWER = 'viewer-key-0123456789abcdef';
const EDITOR = 'editor-key-0123456789abcdef';
const ADMIN = 'admin-key-0123456789abcdefgh';
const EVIL = 'https://evil.example';

/** A raw HTTP request: fetch() cannot send a Host header of its choosing. */
function raw(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, unknown> | null;
}> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: Record<string, unknown> | null;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Connects to `/progress` with these handshake headers; resolves with the socket or rejects with the refusal. */
function connect(baseUrl: string, extraHeaders: Record<string, string>, apiKey?: string): Promise<Socket> {
  const socket = io(`${baseUrl}/progress`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders,
    auth: apiKey ? { apiKey } : {},
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (e) => {
      socket.close();
      reject(e);
    });
  });
}

describe('keyless mode: only the service’s own pages on loopback', () => {
  const dir = tempDir('sec-web-keyless');
  const marker = join(dir.path, 'ran');
  const command = join(dir.path, 'touch-marker.sh');
  let api: AppProcess;
  let port: number;
  let own: string;

  beforeAll(async () => {
    writeFileSync(command, `#!/bin/sh\ntouch "${marker}"\n`);
    chmodSync(command, 0o755);
    port = await freePort();
    own = `http://127.0.0.1:${port}`;
    api = new AppProcess(
      'api',
      { DATA_DIR: dir.path, PORT: String(port), HOST: '127.0.0.1', DELIVERY_CLI_COMMANDS: command },
      port,
    ).start();
    await api.waitReady();
  });

  afterAll(async () => {
    await api.stop();
    dir.remove();
  });

  const cliForm = `mode=cli&prompt=x&params[command]=${encodeURIComponent(command)}&params[args][0]={prompt}`;
  const cliJson = JSON.stringify({ mode: 'cli', prompt: 'x', params: { command, args: ['{prompt}'] } });

  it('should refuse the reproduced attack: a form post from a foreign page that ran a CLI delivery', async () => {
    const attack = await raw(
      port,
      'POST',
      '/api/v1/deliveries',
      {
        host: `127.0.0.1:${port}`,
        origin: EVIL,
        'content-type': 'application/x-www-form-urlencoded',
      },
      cliForm,
    );
    expect(attack.status).toBe(403);
    expect(attack.json).toMatchObject({ statusCode: 403, code: 'cross_origin_refused' });
    await new Promise((r) => setTimeout(r, 300));
    expect(existsSync(marker)).toBe(false);
  });

  it('should refuse form and text bodies with 415 even without an Origin, and run nothing', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x']) {
      const res = await raw(
        port,
        'POST',
        '/api/v1/deliveries',
        { host: `127.0.0.1:${port}`, 'content-type': type },
        type === 'text/plain' ? cliJson : cliForm,
      );
      expect(res.status).toBe(415);
      expect(res.json).toMatchObject({ statusCode: 415, code: 'unsupported_media_type' });
    }
    // A body with no Content-Type at all is not JSON either.
    const untyped = await raw(
      port,
      'POST',
      '/api/v1/jobs/diagnostic',
      { host: `127.0.0.1:${port}`, 'content-length': String(cliJson.length) },
      cliJson,
    );
    expect(untyped.status).toBe(415);
    await new Promise((r) => setTimeout(r, 300));
    expect(existsSync(marker)).toBe(false);
  });

  it('should refuse a DNS-rebinding Host on the API, the docs and the health probes', async () => {
    for (const path of ['/api/v1/deliveries', '/docs-json', '/health/live']) {
      const res = await raw(port, 'GET', path, { host: `rebind.attacker.example:${port}` });
      expect(res.status).toBe(403);
      expect(res.json).toMatchObject({ statusCode: 403, error: 'Forbidden', code: 'host_not_allowed' });
    }
    const post = await raw(
      port,
      'POST',
      '/api/v1/deliveries',
      { host: 'rebind.attacker.example', 'content-type': 'application/json' },
      cliJson,
    );
    expect(post.status).toBe(403);
    expect(existsSync(marker)).toBe(false);
  });

  it('should serve loopback host names, with or without the port', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'localhost', 'LOCALHOST:' + port]) {
      expect((await raw(port, 'GET', '/api/v1/deliveries', { host })).status).toBe(200);
    }
  });

  it('should refuse a foreign Origin on reads too, and a foreign Referer on API calls', async () => {
    const read = await raw(port, 'GET', '/api/v1/deliveries', { host: `127.0.0.1:${port}`, origin: EVIL });
    expect(read).toMatchObject({ status: 403, json: { code: 'cross_origin_refused' } });
    const nullOrigin = await raw(port, 'GET', '/api/v1/deliveries', { host: `127.0.0.1:${port}`, origin: 'null' });
    expect(nullOrigin.status).toBe(403);
    const referred = await raw(
      port,
      'POST',
      '/api/v1/jobs/diagnostic',
      {
        host: `127.0.0.1:${port}`,
        referer: `${EVIL}/page`,
        'content-type': 'application/json',
      },
      JSON.stringify({ steps: 1, stepMs: 1 }),
    );
    expect(referred).toMatchObject({ status: 403, json: { code: 'cross_origin_refused' } });
    const apiRead = await raw(port, 'GET', '/api/v1/deliveries', {
      host: `127.0.0.1:${port}`,
      referer: `${EVIL}/page`,
    });
    expect(apiRead.status).toBe(403);
    // A link from another site to a page of the UI (not the API) is a navigation, and is served.
    const page = await raw(port, 'GET', '/docs', { host: `127.0.0.1:${port}`, referer: `${EVIL}/page` });
    expect(page.status).not.toBe(403);
  });

  it('should accept the service’s own pages and programs that send no Origin', async () => {
    const diagnostic = JSON.stringify({ steps: 1, stepMs: 1 });
    const sameOrigin = await fetch(`${own}/api/v1/jobs/diagnostic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: own, referer: `${own}/library` },
      body: diagnostic,
    });
    expect(sameOrigin.status).toBe(201);
    const viaLocalhost = await raw(
      port,
      'POST',
      '/api/v1/jobs/diagnostic',
      {
        host: `localhost:${port}`,
        origin: `http://localhost:${port}`,
        'content-type': 'application/json; charset=utf-8',
      },
      diagnostic,
    );
    expect(viaLocalhost.status).toBe(201);
    const program = await fetch(`${own}/api/v1/jobs/diagnostic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: diagnostic,
    });
    expect(program.status).toBe(201);
    // A POST without a body needs no Content-Type.
    const empty = await raw(port, 'POST', '/api/v1/jobs/diagnostic', { host: `127.0.0.1:${port}` });
    expect(empty.status).toBe(400);
  });

  it('should refuse Socket.IO handshakes from a foreign Origin or a rebinding Host, and accept its own', async () => {
    await expect(connect(own, { origin: EVIL })).rejects.toThrow(/cross_origin_refused/);
    await expect(connect(own, { host: `rebind.attacker.example:${port}` })).rejects.toThrow(/host_not_allowed/);
    const mine = await connect(own, { origin: own });
    mine.close();
    const program = await connect(own, {});
    program.close();
  });

  it('should answer a Socket.IO polling handshake with no CORS header for a foreign Origin', async () => {
    const res = await raw(port, 'GET', '/socket.io/?EIO=4&transport=polling', {
      host: `127.0.0.1:${port}`,
      origin: EVIL,
    });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('should say that no sign-in is needed, and refuse to open a session', async () => {
    const state = await fetch(`${own}/api/v1/session`);
    expect(await state.json()).toEqual({ authRequired: false, role: 'admin', expiresAt: null });
    const open = await fetch(`${own}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey: ADMIN }),
    });
    expect(open.status).toBe(409);
    expect(await open.json()).toMatchObject({ code: 'auth_not_required' });
  });
});

describe('browser sessions with API keys', () => {
  const dir = tempDir('sec-web-session');
  let api: AppProcess;
  let port: number;
  let own: string;

  beforeAll(async () => {
    port = await freePort();
    own = `http://127.0.0.1:${port}`;
    api = new AppProcess(
      'api',
      {
        DATA_DIR: dir.path,
        PORT: String(port),
        HOST: '127.0.0.1',
        API_KEYS: `${VIEWER}:viewer,${EDITOR}:editor,${ADMIN}:admin`,
        TRUST_PROXY: 'loopback',
        LOG_LEVEL: 'debug',
      },
      port,
    ).start();
    await api.waitReady();
  });

  afterAll(async () => {
    await api.stop();
    dir.remove();
  });

  const signIn = async (apiKey: string, headers: Record<string, string> = {}) =>
    fetch(`${own}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: own, ...headers },
      body: JSON.stringify({ apiKey }),
    });
  const cookieOf = (res: Response): string => (res.headers.get('set-cookie') ?? '').split(';')[0];
  const diagnostic = (headers: Record<string, string>) =>
    fetch(`${own}/api/v1/jobs/diagnostic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ steps: 1, stepMs: 1 }),
    });

  it('should refuse a wrong key with 401 and set no cookie', async () => {
    const res = await signIn('wrong-key-0123456789abcdef');
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ statusCode: 401, code: 'invalid_api_key' });
    expect(res.headers.get('set-cookie')).toBeNull();
    expect((await signIn('')).status).toBe(400);
  });

  it('should exchange a key for an HttpOnly, SameSite=Strict cookie that never contains the key', async () => {
    const before = Date.now();
    const res = await signIn(VIEWER);
    expect(res.status).toBe(201);
    const body = (await res.json()) as { role: string; expiresAt: string };
    expect(body.role).toBe('viewer');
    const ttl = Date.parse(body.expiresAt) - before;
    expect(ttl).toBeGreaterThan(12 * 3600_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(12 * 3600_000 + 1000);
    const header = res.headers.get('set-cookie') ?? '';
    expect(header).toMatch(/^lm_session=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; /);
    expect(header).toContain('; Path=/');
    expect(header).toContain('; HttpOnly');
    expect(header).toContain('; SameSite=Strict');
    expect(header).toContain('; Max-Age=43200; ');
    expect(header).not.toContain('Secure');
    expect(header).not.toContain(VIEWER);
    expect(Buffer.from(cookieOf(res).split('=')[1].split('.')[0], 'base64url').toString()).not.toContain(VIEWER);
  });

  it('should mark the cookie Secure when a trusted proxy says the request came over TLS', async () => {
    const res = await signIn(VIEWER, { 'x-forwarded-proto': 'https', origin: `https://127.0.0.1:${port}` });
    expect(res.status).toBe(201);
    expect(res.headers.get('set-cookie')).toContain('; Secure');
  });

  it('should accept the cookie like the key, with its role, for reads (an <img> needs nothing else)', async () => {
    const cookie = cookieOf(await signIn(VIEWER));
    const list = await fetch(`${own}/api/v1/deliveries`, { headers: { cookie } });
    expect(list.status).toBe(200);
    expect((await fetch(`${own}/api/v1/deliveries`)).status).toBe(401);
    const state = await fetch(`${own}/api/v1/session`, { headers: { cookie } });
    expect(await state.json()).toMatchObject({ authRequired: true, role: 'viewer', expiresAt: expect.any(String) });
    expect(await (await fetch(`${own}/api/v1/session`)).json()).toEqual({
      authRequired: true,
      role: null,
      expiresAt: null,
    });
    // The role is the key's: a viewer session may not write, even from the service's own page.
    const write = await diagnostic({ cookie, origin: own });
    expect(write.status).toBe(403);
    expect(await write.json()).toMatchObject({ code: 'forbidden' });
  });

  it('should refuse cookie-authenticated writes without the service’s own Origin or Referer (CSRF)', async () => {
    const cookie = cookieOf(await signIn(ADMIN));
    for (const headers of <Record<string, string>[]>[
      { cookie },
      { cookie, origin: EVIL },
      { cookie, referer: `${EVIL}/x` },
      { cookie, origin: 'null' },
    ]) {
      const res = await diagnostic(headers);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ statusCode: 403, code: 'cross_site_request' });
    }
    expect((await diagnostic({ cookie, origin: own })).status).toBe(201);
    expect((await diagnostic({ cookie, referer: `${own}/imports` })).status).toBe(201);
  });

  it('should leave API-key requests from programs alone, whatever their Origin', async () => {
    expect((await diagnostic({ 'x-api-key': ADMIN })).status).toBe(201);
    expect((await diagnostic({ 'x-api-key': ADMIN, origin: EVIL })).status).toBe(201);
    // A wrong key is never rescued by a valid cookie.
    const cookie = cookieOf(await signIn(ADMIN));
    expect((await diagnostic({ 'x-api-key': 'wrong-key-0123456789abcdef', cookie, origin: own })).status).toBe(401);
  });

  it('should refuse a forged or tampered cookie', async () => {
    const cookie = cookieOf(await signIn(VIEWER));
    const [name, token] = cookie.split('=');
    const [payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const longer = Buffer.from(JSON.stringify({ ...claims, e: Date.now() + 10 * 365 * 86_400_000 })).toString(
      'base64url',
    );
    for (const forged of [
      `${name}=${longer}.${signature}`,
      `${name}=${payload}.${signature.slice(0, -2)}AA`,
      `${name}=${payload}`,
      `${name}=x.y`,
    ]) {
      expect((await fetch(`${own}/api/v1/deliveries`, { headers: { cookie: forged } })).status).toBe(401);
    }
  });

  it('should clear the cookie on sign-out', async () => {
    const res = await fetch(`${own}/api/v1/session`, { method: 'DELETE', headers: { origin: own } });
    expect(res.status).toBe(204);
    const header = res.headers.get('set-cookie') ?? '';
    expect(header).toMatch(/^lm_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict/);
  });

  it('should accept the session cookie in a Socket.IO handshake from its own page only', async () => {
    const cookie = cookieOf(await signIn(VIEWER));
    const mine = await connect(own, { cookie, origin: own });
    mine.close();
    await expect(connect(own, { cookie, origin: EVIL })).rejects.toThrow(/cross_site_request/);
    await expect(connect(own, { cookie: 'lm_session=x.y', origin: own })).rejects.toThrow(/unauthorized/);
    // Programs with a key are not browsers: no Origin rule.
    const program = await connect(own, { origin: EVIL }, VIEWER);
    program.close();
  });

  it('should never write a key or a session token into its logs', async () => {
    const cookie = cookieOf(await signIn(ADMIN));
    await fetch(`${own}/api/v1/deliveries`, { headers: { cookie } });
    await new Promise((r) => setTimeout(r, 300));
    expect(api.text).toContain('"url":"/api/v1/session"');
    for (const secret of [VIEWER, EDITOR, ADMIN, cookie.split('=')[1]]) expect(api.text).not.toContain(secret);
  });
});
