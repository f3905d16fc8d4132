import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AppProcess, freePort } from './support/app-process.js';
import { ProgressClient } from './support/progress-client.js';
import { tempDir } from './support/test-services.js';

const VIEWER = 'viewer-key-0123456789abcdef';
const EDITOR = 'editor-key-0123456789abcdef';
const ADMIN = 'admin-key-0123456789abcdefgh';
const diagnostic = JSON.stringify({ steps: 1, stepMs: 1 });

describe('API keys and roles', () => {
  const dir = tempDir('auth');
  let api: AppProcess;

  beforeAll(async () => {
    const port = await freePort();
    api = new AppProcess(
      'api',
      {
        DATA_DIR: dir.path,
        PORT: String(port),
        HOST: '127.0.0.1',
        API_KEYS: `${VIEWER}:viewer,${EDITOR}:editor,${ADMIN}:admin`,
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

  const post = (key: string | null, header: 'x-api-key' | 'bearer' = 'x-api-key') =>
    fetch(`${api.baseUrl}/api/v1/jobs/diagnostic`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(key === null ? {} : header === 'x-api-key' ? { 'x-api-key': key } : { authorization: `Bearer ${key}` }),
      },
      body: diagnostic,
    });

  it('should answer 401 without a key or with a wrong one, and keep health probes open', async () => {
    const none = await post(null);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ statusCode: 401, code: 'unauthorized' });
    expect((await post('wrong-key-0123456789abcdef')).status).toBe(401);
    expect((await fetch(`${api.baseUrl}/health/ready`)).status).toBe(200);
    expect((await fetch(`${api.baseUrl}/health/live`)).status).toBe(200);
  });

  it('should let a viewer read but not write (403)', async () => {
    const read = await fetch(`${api.baseUrl}/api/v1/jobs/diagnostic/00000000-0000-4000-8000-000000000000`, {
      headers: { 'x-api-key': VIEWER },
    });
    expect(read.status).toBe(404);
    const write = await post(VIEWER);
    expect(write.status).toBe(403);
    expect(await write.json()).toMatchObject({ statusCode: 403, code: 'forbidden' });
  });

  it('should keep admin-only routes from editors and accept a Bearer token', async () => {
    expect((await post(EDITOR)).status).toBe(403);
    expect((await post(ADMIN, 'bearer')).status).toBe(201);
  });

  it('should refuse a Socket.IO connection without a valid key and accept one with it', async () => {
    const anonymous = new ProgressClient(api.baseUrl);
    await expect(anonymous.connected()).rejects.toThrow(/unauthorized/);
    anonymous.close();
    const wrong = new ProgressClient(api.baseUrl, 'not-a-key-0123456789abcdef');
    await expect(wrong.connected()).rejects.toThrow(/unauthorized/);
    wrong.close();
    const viewer = new ProgressClient(api.baseUrl, VIEWER);
    await viewer.connected();
    expect((await viewer.subscribe({ topic: 'imports' })).ok).toBe(true);
    viewer.close();
  });

  it('should never write an API key into its logs', async () => {
    await post(ADMIN);
    await post(ADMIN, 'bearer');
    await fetch(`${api.baseUrl}/api/v1/jobs/diagnostic/00000000-0000-4000-8000-000000000000?apiKey=${EDITOR}`, {
      headers: { 'x-api-key': VIEWER },
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(api.text).toContain('"url":"/api/v1/jobs/diagnostic"');
    for (const key of [VIEWER, EDITOR, ADMIN]) expect(api.text).not.toContain(key);
  });
});

describe('configuration at boot', () => {
  it('should refuse to start with bad values and name each bad variable', async () => {
    const api = new AppProcess('api', { PORT: 'eighty', API_KEYS: 'short:boss', DATABASE_URL: 'mysql://x' }).start();
    expect(await api.exitCode()).toBe(2);
    expect(api.text).toContain('PORT');
    expect(api.text).toContain('API_KEYS');
    expect(api.text).toContain('DATABASE_URL');
    expect(api.text).not.toContain('short:boss');
  });

  it('should refuse to start a worker without REDIS_URL, saying why in one line', async () => {
    const worker = new AppProcess('worker', {}).start();
    expect(await worker.exitCode()).toBe(2);
    expect(worker.text.trim()).toBe(
      'The worker needs REDIS_URL (scale-out mode); in embedded mode the API runs jobs itself.',
    );
  });
});
