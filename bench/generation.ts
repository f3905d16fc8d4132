/**
 * `npm run bench:generation`: generation throughput and latencies through the queue, in embedded mode (SQLite,
 * in-process runner) and scale-out mode (PostgreSQL + Redis + two workers), against the fake SD.Next at zero step
 * time, next to a baseline measured in the same run: direct txt2img calls to the same fake, without the queue.
 *
 * - jobs/s: N jobs queued at once, until the last `generation.completed` reaches a Socket.IO client;
 * - enqueue → start: `startedAt − createdAt` of the job rows (server clock), one job at a time on an idle system;
 * - progress event latency: the client's receive time minus the event's `emittedAt` (same machine, same clock).
 *
 * Scale-out needs PostgreSQL and Redis (TEST_PG_URL, TEST_REDIS_URL as for the tests); it is skipped without them.
 */
import { readFileSync } from 'node:fs';
import { SdNextClient } from '@app/generation';
import { AppProcess, freePort, runCli } from '../test/support/app-process.js';
import { FakeSdNext } from '../test/support/fake-sdnext.js';
import { ProgressClient } from '../test/support/progress-client.js';
import { createRedisPrefix, createTestDatabase, REDIS_URL, tempDir } from '../test/support/test-services.js';
import { percentile } from './bench-util.js';

const THROUGHPUT_JOBS = Number(process.env.BENCH_JOBS ?? 200);
const LATENCY_JOBS = Number(process.env.BENCH_LATENCY_JOBS ?? 50);
const json = { 'content-type': 'application/json' };

interface Figures {
  jobsPerSecond: number;
  /** CPU time (user + system) the app processes spent per throughput job: steadier than jobs/s on a busy machine. */
  cpuMsPerJob: number;
  startP50: number;
  startP95: number;
  progressP95: number;
  /** Job start (the row's startedAt) → the first `generation.progress` event at the client, stepped jobs. */
  firstProgressP95: number;
  /** Job start → the first event carrying a reading polled from SD.Next, stepped jobs. */
  firstReadingP95: number;
}

const STEPPED_JOBS = Number(process.env.BENCH_STEPPED_JOBS ?? 10);
/** The stepped jobs: 10 steps of 40 ms, so a job runs ~400 ms, shorter than one progress poll interval. */
const STEPPED = { steps: 10, stepMs: 40 };

async function queue(base: string, prompt: string, steps = 1): Promise<string> {
  const res = await fetch(`${base}/api/v1/generation/queue-generation`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ prompt, steps }),
  });
  if (res.status !== 201) throw new Error(`queue-generation answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

async function row(base: string, id: string): Promise<{ status: string; createdAt: string; startedAt: string }> {
  return (await (await fetch(`${base}/api/v1/generation/jobs/${id}`)).json()) as {
    status: string;
    createdAt: string;
    startedAt: string;
  };
}

/** CPU time used so far by the processes, in ms, from /proc (Linux); NaN elsewhere. */
function cpuMs(pids: (number | undefined)[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      // Fields after the command name: utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      return Number.NaN;
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux.
}

async function measure(base: string, fake: FakeSdNext, pids: (number | undefined)[]): Promise<Figures> {
  const client = new ProgressClient(base);
  await client.connected();
  await client.subscribe({ topic: 'generations' });
  const done = (id: string) =>
    client.waitFor((e) => e.payload.jobId === id && e.event !== 'generation.progress', 60_000);
  // Warm-up: first requests pay for lazy initialisation.
  for (let i = 0; i < 5; i++) await done(await queue(base, `warm ${i}`));

  const startLatencies: number[] = [];
  for (let i = 0; i < LATENCY_JOBS; i++) {
    const id = await queue(base, `latency ${i}`);
    const end = await done(id);
    if (end.event !== 'generation.completed') throw new Error(`job ${id} ended ${end.event}`);
    const r = await row(base, id);
    startLatencies.push(Date.parse(r.startedAt) - Date.parse(r.createdAt));
  }

  const t0 = performance.now();
  const cpu0 = cpuMs(pids);
  const ids = await Promise.all(Array.from({ length: THROUGHPUT_JOBS }, (_, i) => queue(base, `throughput ${i}`)));
  const ends = await Promise.all(ids.map((id) => done(id)));
  const seconds = (performance.now() - t0) / 1000;
  const cpuMsPerJob = (cpuMs(pids) - cpu0) / THROUGHPUT_JOBS;
  const failed = ends.filter((e) => e.event !== 'generation.completed').length;
  if (failed > 0) throw new Error(`${failed} of ${THROUGHPUT_JOBS} jobs did not complete`);

  const progressLatencies = client.events
    .filter((e) => e.event === 'generation.progress')
    .map((e) => e.at - Date.parse((e.payload as { emittedAt: string }).emittedAt));

  // How soon a user sees a job move: stepped jobs, one at a time, from the row's start to the first events.
  const firstProgress: number[] = [];
  const firstReading: number[] = [];
  fake.setStepMs(STEPPED.stepMs);
  try {
    for (let i = 0; i < STEPPED_JOBS; i++) {
      const id = await queue(base, `stepped ${i}`, STEPPED.steps);
      const end = await done(id);
      if (end.event !== 'generation.completed') throw new Error(`job ${id} ended ${end.event}`);
      const started = Date.parse((await row(base, id)).startedAt);
      const progress = client.ofJob(id).filter((e) => e.event === 'generation.progress');
      // The first event is the runner's own (progress 0, sent as the job starts); the next one is SD.Next's reading.
      const reading = progress[1];
      firstProgress.push((progress[0]?.at ?? end.at) - started);
      firstReading.push((reading?.at ?? end.at) - started);
    }
  } finally {
    fake.setStepMs(0);
  }
  client.close();
  return {
    jobsPerSecond: THROUGHPUT_JOBS / seconds,
    cpuMsPerJob,
    startP50: percentile(startLatencies, 50),
    startP95: percentile(startLatencies, 95),
    progressP95: percentile(progressLatencies, 95),
    firstProgressP95: percentile(firstProgress, 95),
    firstReadingP95: percentile(firstReading, 95),
  };
}

async function baseline(url: string): Promise<{ callsPerSecond: number; p50: number; p95: number }> {
  const client = new SdNextClient({ baseUrl: url });
  for (let i = 0; i < 5; i++) await client.txt2img({ prompt: 'warm', steps: 1 });
  const latencies: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < THROUGHPUT_JOBS; i++) {
    const t = performance.now();
    await client.txt2img({ prompt: `baseline ${i}`, steps: 1 });
    latencies.push(performance.now() - t);
  }
  return {
    callsPerSecond: THROUGHPUT_JOBS / ((performance.now() - t0) / 1000),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
  };
}

async function embedded(fake: FakeSdNext): Promise<Figures> {
  const url = fake.url;
  const dir = tempDir('bench-gen');
  const port = await freePort();
  const api = new AppProcess(
    'api',
    { DATA_DIR: dir.path, PORT: String(port), SDNEXT_URL: url, LOG_LEVEL: 'warn' },
    port,
  );
  try {
    api.start();
    await api.waitReady();
    return await measure(api.baseUrl, fake, [api.pid]);
  } finally {
    await api.stop();
    dir.remove();
  }
}

async function scaleOut(fake: FakeSdNext): Promise<Figures | string> {
  const url = fake.url;
  let db: { url: string; drop: () => Promise<void> };
  try {
    db = await createTestDatabase('bench_gen');
  } catch (error) {
    return `skipped (PostgreSQL: ${String(error)})`;
  }
  const redis = createRedisPrefix('bench-gen');
  const dir = tempDir('bench-gen-scale');
  const env = {
    DATA_DIR: dir.path,
    DATABASE_URL: db.url,
    REDIS_URL,
    REDIS_PREFIX: redis.prefix,
    SDNEXT_URL: url,
    LOG_LEVEL: 'warn',
  };
  const apps: AppProcess[] = [];
  try {
    const migrated = await runCli(['migrate'], env);
    if (migrated.code !== 0) throw new Error(`migrate failed:\n${migrated.output}`);
    for (let i = 0; i < 2; i++) {
      const p = await freePort();
      apps.push(new AppProcess('worker', { ...env, WORKER_PORT: String(p) }, p).start());
    }
    const port = await freePort();
    const api = new AppProcess('api', { ...env, PORT: String(port) }, port).start();
    apps.push(api);
    await Promise.all(apps.map((a) => a.waitReady()));
    return await measure(
      api.baseUrl,
      fake,
      apps.map((a) => a.pid),
    );
  } finally {
    await Promise.all(apps.map((a) => a.stop()));
    await redis.clear();
    await db.drop();
    dir.remove();
  }
}

const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');

const fake = new FakeSdNext({ flavour: 'sdnext', stepMs: 0 });
const url = await fake.start();
try {
  const direct = await baseline(url);
  const emb = await embedded(fake);
  const scale = await scaleOut(fake);
  /** What the queue adds to each job beyond the direct loop of the same calls, in ms. */
  const overhead = (f: Figures) => 1000 / f.jobsPerSecond - 1000 / direct.callsPerSecond;
  console.log(
    `\nGeneration benchmark: fake SD.Next at 0 ms/step, ${THROUGHPUT_JOBS} jobs for throughput, ${LATENCY_JOBS} for latency, ` +
      `${STEPPED_JOBS} stepped jobs (${STEPPED.steps} × ${STEPPED.stepMs} ms) for the first events\n`,
  );
  console.log(
    '| | jobs/s | overhead per job ms | app CPU per job ms | enqueue→start p50 ms | p95 ms | progress event p95 ms | start→first progress p95 ms | start→first reading p95 ms |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  console.log(
    `| baseline: direct txt2img loop, no queue | ${fmt(direct.callsPerSecond)} | - | - | (call p50 ${fmt(direct.p50)}) | (call p95 ${fmt(direct.p95)}) | - | - | - |`,
  );
  const line = (name: string, f: Figures) =>
    `| ${name} | ${fmt(f.jobsPerSecond)} | ${fmt(overhead(f))} | ${fmt(f.cpuMsPerJob)} | ${fmt(f.startP50)} | ${fmt(f.startP95)} | ${fmt(f.progressP95)} | ${fmt(f.firstProgressP95)} | ${fmt(f.firstReadingP95)} |`;
  console.log(line('embedded (SQLite, in-process)', emb));
  if (typeof scale === 'string') console.log(`| scale-out | ${scale} | | | | | | | |`);
  else console.log(line('scale-out (PostgreSQL, Redis, 2 workers)', scale));
  console.log(
    `\nTargets: overhead per job ≤ 5 ms embedded, ≤ 10 ms scale-out; start latency p50 ≤ 10 ms; progress latency p95 ≤ 50 ms; ` +
      `first progress event ≤ 50 ms after the job starts. fake.maxRequestsInFlight = ${fake.maxRequestsInFlight}`,
  );
} finally {
  await fake.stop();
}
