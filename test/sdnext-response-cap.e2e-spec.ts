import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AppProcess, freePort } from './support/app-process.js';
import { FakeSdNext } from './support/fake-sdnext.js';
import { tempDir } from './support/test-services.js';

describe('SD.Next answers larger than SDNEXT_MAX_RESPONSE_MB', () => {
  const dir = tempDir('sdnext-cap');
  const fake = new FakeSdNext({ flavour: 'sdnext', stepMs: 1 });
  let api: AppProcess;

  const generate = (prompt: string) =>
    fetch(`${api.baseUrl}/api/v1/generation/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt, steps: 1, backend_id: 'sdnext-0' }),
      signal: AbortSignal.timeout(30_000),
    });

  beforeAll(async () => {
    const url = await fake.start();
    const port = await freePort();
    const env = { DATA_DIR: dir.path, PORT: String(port), SDNEXT_URL: url, SDNEXT_MAX_RESPONSE_MB: '1' };
    api = new AppProcess('api', env, port).start();
    await api.waitReady();
  }, 60_000);

  afterAll(async () => {
    await api?.stop();
    await fake.stop();
    dir.remove();
  });

  it('should answer 502 naming the cap when SD.Next sends a gzip bomb, and keep serving', async () => {
    fake.failNext('gzip-bomb');
    const res = await generate('bomb');
    expect(res.status).toBe(502);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe('sdnext_response_too_large');
    expect(body.message).toContain('larger than 1048576 bytes gzip-decoded');
    expect((await fetch(`${api.baseUrl}/health/live`)).status).toBe(200);
    expect((await generate('fine')).status).toBe(200);
  });

  it('should answer 502 when SD.Next streams an answer that never ends', async () => {
    fake.failNext('endless-body');
    const res = await generate('endless');
    expect(res.status).toBe(502);
    expect(((await res.json()) as { message: string }).message).toContain('larger than 1048576 bytes sent');
  });
});
