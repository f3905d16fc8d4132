import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AppProcess, freePort } from './support/app-process.js';
import { ProgressClient } from './support/progress-client.js';
import { tempDir } from './support/test-services.js';

const json = { 'content-type': 'application/json' };

async function enqueueDiagnostic(base: string, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${base}/api/v1/jobs/diagnostic`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function jobState(base: string, id: string): Promise<{ status: string; attempts: number; result: unknown }> {
  const res = await fetch(`${base}/api/v1/jobs/diagnostic/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { status: string; attempts: number; result: unknown };
}

async function waitForStatus(base: string, id: string, status: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = (await jobState(base, id)).status;
    if (last === status) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} is ${last}, expected ${status}`);
}

describe('API in embedded mode', () => {
  const dir = tempDir('embedded');
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

  it('should be ready with the database and storage up, and warn that it listens on loopback only', async () => {
    const res = await fetch(`${api.baseUrl}/health/ready`);
    const body = (await res.json()) as { status: string; details: Record<string, { status: string }> };
    expect(res.status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.details.database.status).toBe('up');
    expect(body.details.storage.status).toBe('up');
    expect(body.details.redis).toBeUndefined();
    expect(api.text).toContain('auth      open (no API_KEYS), listening on 127.0.0.1 only');
  });

  it('should publish an OpenAPI document in which every operation has a response schema', async () => {
    const res = await fetch(`${api.baseUrl}/docs-json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      paths: Record<
        string,
        Record<
          string,
          { operationId: string; responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }
        >
      >;
    };
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method, op })),
    );
    expect(operations.length).toBeGreaterThan(3);
    const missing = operations
      .filter(
        ({ op }) =>
          !Object.entries(op.responses).some(
            // A documented 204 has, by definition, no body to describe.
            ([code, r]) =>
              code === '204' ||
              (code.startsWith('2') && Object.values(r.content ?? {}).some((c) => c.schema !== undefined)),
          ),
      )
      .map(({ path, method }) => `${method.toUpperCase()} ${path}`);
    expect(missing).toEqual([]);
    const ids = operations.map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const swagger = await fetch(`${api.baseUrl}/docs`);
    expect(swagger.status).toBe(200);
    expect(await swagger.text()).toContain('swagger-ui');
  });

  it('should serve Prometheus metrics with HTTP, job and process series', async () => {
    await fetch(`${api.baseUrl}/api/v1/jobs/diagnostic/00000000-0000-4000-8000-000000000000`);
    const res = await fetch(`${api.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/jobs\/:name\/:id",status="404"\} 1/,
    );
    expect(text).toContain('# TYPE jobs_total counter');
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('should run a queued job, push its progress and completion to a subscribed client, and record it', async () => {
    const client = new ProgressClient(api.baseUrl);
    try {
      await client.connected();
      expect(await client.subscribe({ topic: 'jobs' })).toEqual({ ok: true, room: 'topic:jobs' });
      const id = await enqueueDiagnostic(api.baseUrl, { steps: 4, stepMs: 50 });
      const completed = await client.waitFor((e) => e.event === 'job.completed' && e.payload.jobId === id);
      const progress = client
        .ofJob(id)
        .filter((e) => e.event === 'job.progress')
        .map((e) => (e.payload as { progress: number }).progress);
      expect(progress).toEqual([0.25, 0.5, 0.75, 1]);
      expect(client.ofJob(id).indexOf(completed)).toBe(4);
      const state = await jobState(api.baseUrl, id);
      expect(state.status).toBe('completed');
      expect(state.result).toMatchObject({ steps: 4, attempt: 1 });
    } finally {
      client.close();
    }
  });

  it('should deliver a job room event once even to a client subscribed to the job and its topic', async () => {
    const client = new ProgressClient(api.baseUrl);
    try {
      await client.connected();
      const id = await enqueueDiagnostic(api.baseUrl, { steps: 3, stepMs: 150 });
      expect((await client.subscribe({ jobId: id })).ok).toBe(true);
      expect((await client.subscribe({ topic: 'jobs' })).ok).toBe(true);
      await client.waitFor((e) => e.event === 'job.completed' && e.payload.jobId === id);
      expect(client.ofJob(id).filter((e) => e.event === 'job.completed')).toHaveLength(1);
    } finally {
      client.close();
    }
  });

  it('should retry a failing job with backoff and report the failure it recovered from', async () => {
    const client = new ProgressClient(api.baseUrl);
    try {
      await client.connected();
      await client.subscribe({ topic: 'jobs' });
      const id = await enqueueDiagnostic(api.baseUrl, { steps: 2, stepMs: 10, failAtStep: 1, failAttempts: 1 });
      await client.waitFor((e) => e.event === 'job.completed' && e.payload.jobId === id);
      const failed = client.ofJob(id).find((e) => e.event === 'job.failed');
      expect(failed?.payload).toMatchObject({ willRetry: true, error: expect.stringContaining('injected at step 1') });
      expect((await jobState(api.baseUrl, id)).attempts).toBe(2);
    } finally {
      client.close();
    }
  });

  it('should mark a job failed with its reason after the last attempt', async () => {
    const id = await enqueueDiagnostic(api.baseUrl, { steps: 1, stepMs: 1, failAtStep: 1 });
    await waitForStatus(api.baseUrl, id, 'failed');
    const res = await fetch(`${api.baseUrl}/api/v1/jobs/diagnostic/${id}`);
    const body = (await res.json()) as { error: string; attempts: number };
    expect(body.attempts).toBe(3);
    expect(body.error).toContain('injected at step 1 (attempt 3)');
  });

  it('should cancel a running job', async () => {
    const id = await enqueueDiagnostic(api.baseUrl, { steps: 100, stepMs: 100 });
    await waitForStatus(api.baseUrl, id, 'running');
    const res = await fetch(`${api.baseUrl}/api/v1/jobs/diagnostic/${id}/cancel`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id, outcome: 'signalled' });
    await waitForStatus(api.baseUrl, id, 'cancelled', 5000);
  });

  it('should refuse bad subscriptions with a clear error event', async () => {
    const client = new ProgressClient(api.baseUrl);
    try {
      await client.connected();
      expect(await client.subscribe({ jobId: 'not-a-uuid' })).toEqual({ ok: false, error: 'jobId must be a UUID' });
      expect((await client.subscribe({ topic: 'weather' })).error).toContain('topic must be one of');
      const event = await client.waitFor((e) => (e.event as string) === 'subscription.error');
      expect(event.payload).toMatchObject({ error: 'jobId must be a UUID' });
    } finally {
      client.close();
    }
  });

  it('should answer bad input with 400 naming the field, and unknown ids with 404', async () => {
    const bad = await fetch(`${api.baseUrl}/api/v1/jobs/diagnostic`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ steps: 0, stepMs: 10, extra: true }),
    });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { code: string; details: { field: string }[] };
    expect(body.code).toBe('validation_failed');
    expect(body.details.map((d) => d.field).sort()).toEqual(['extra', 'steps']);
    const notJson = await fetch(`${api.baseUrl}/api/v1/jobs/diagnostic`, {
      method: 'POST',
      headers: json,
      body: '{oops',
    });
    expect(notJson.status).toBe(400);
    const badName = await fetch(`${api.baseUrl}/api/v1/jobs/nothing/00000000-0000-4000-8000-000000000000`);
    expect(badName.status).toBe(400);
    expect(((await badName.json()) as { details: { field: string }[] }).details[0].field).toBe('name');
    const unknown = await fetch(`${api.baseUrl}/api/v1/jobs/diagnostic/00000000-0000-4000-8000-000000000000`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ statusCode: 404, code: 'job_not_found' });
  });

  it('should finish jobs that were running or queued when the process was killed, after a restart', async () => {
    const ids: string[] = [];
    // Four run at once (the diagnostic concurrency), the fifth waits in the queue.
    for (let i = 0; i < 5; i++) ids.push(await enqueueDiagnostic(api.baseUrl, { steps: 10, stepMs: 200 }));
    await waitForStatus(api.baseUrl, ids[0], 'running');
    expect((await jobState(api.baseUrl, ids[4])).status).toBe('queued');
    await api.kill9();
    api.output.length = 0;
    api.start();
    await api.waitReady();
    for (const id of ids) await waitForStatus(api.baseUrl, id, 'completed', 30_000);
    expect(api.text).toContain('Re-queued 4 job(s)');
  });
});
