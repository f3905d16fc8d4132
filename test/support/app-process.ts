import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { contractRecording, RecordingProxy } from './contract-recorder.js';
import { freePortSync } from './ports.js';

// The repository root, from test/support (Jest) or from dist/test/support (benchmarks run from dist).
const UP = resolve(import.meta.dirname, '..', '..');
const ROOT = basename(UP) === 'dist' ? resolve(UP, '..') : UP;

export type AppName = 'api' | 'worker' | 'cli';

/** What `npm run cli` / `start:api` / `start:worker` and the Docker image run: the bundled app (scripts/bundle.config.mjs). */
export const entryOf = (app: AppName): string => resolve(ROOT, 'dist', 'apps', app, 'bundle', 'main.js');

export { freePort } from './ports.js';

/**
 * CI sets TEST_PROCESS_LOG: each start-up, stop and CLI run appends one JSON line (app, phase, ms), so the run can
 * say how much of the suite's time went to starting and stopping processes (.ci/run prints the totals).
 */
function logProcessTime(app: AppName, phase: 'ready' | 'stop' | 'run', ms: number): void {
  const file = process.env.TEST_PROCESS_LOG;
  if (!file) return;
  appendFileSync(file, `${JSON.stringify({ app, phase, ms: Math.round(ms) })}\n`);
}

/** One built app (`dist/`) running as a real process, with its output kept for assertions. */
export class AppProcess {
  readonly output: string[] = [];
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  private proxy?: RecordingProxy;
  private startedAt = 0;
  private ready = false;
  private stopping = false;

  constructor(
    readonly app: AppName,
    readonly env: Record<string, string>,
    readonly port?: number,
  ) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get text(): string {
    return this.output.join('');
  }

  start(args: string[] = []): this {
    const env = { ...this.env };
    // Under Jest the API listens on a port of its own behind a proxy on `port` that records every response for the
    // contract check (test/support/contract-setup.ts).
    if (this.app === 'api' && this.port && env.PORT === String(this.port) && contractRecording.enabled) {
      env.PORT = String(freePortSync());
      this.proxy = new RecordingProxy(this.port, Number(env.PORT));
      const key = env.API_KEYS?.split(',')[0]?.replace(/:[a-z]+$/, '');
      if (key) contractRecording.docsHeaders = { 'x-api-key': key };
    }
    this.startedAt = performance.now();
    // `APP_NODE_ARGS` (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) profiles the apps a benchmark or test starts.
    const nodeArgs = process.env.APP_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const child = spawn(process.execPath, [...nodeArgs, entryOf(this.app), ...args], {
      env: { PATH: process.env.PATH ?? '', LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => this.output.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => this.output.push(d.toString()));
    this.exited = new Promise((r) =>
      child.on('exit', (code, signal) => {
        this.proxy?.close();
        // A test that fails because its API or worker died would otherwise show only the refused connections.
        if (this.ready && !this.stopping)
          console.error(`${this.app} ${child.pid} exited (${signal ?? code}) while in use:\n${this.text.slice(-4000)}`);
        r(code);
      }),
    );
    this.child = child;
    return this;
  }

  /** Waits for the process to exit and returns its code. */
  async exitCode(timeoutMs = 30_000): Promise<number | null> {
    return Promise.race([
      this.exited ?? Promise.resolve(null),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`${this.app} did not exit; output:\n${this.text}`)), timeoutMs).unref(),
      ),
    ]);
  }

  async waitReady(path = '/health/ready', timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited?.then(() => (exited = true));
    while (Date.now() < deadline) {
      if (exited) throw new Error(`${this.app} exited during start-up:\n${this.text}`);
      try {
        const res = await fetch(`${this.baseUrl}${path}`);
        if (res.status === 200) {
          this.ready = true;
          return logProcessTime(this.app, 'ready', performance.now() - this.startedAt);
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`${this.app} not ready after ${timeoutMs} ms:\n${this.text}`);
  }

  /** Sends `signal` without waiting for the exit (the exit that follows is expected). */
  signal(signal: NodeJS.Signals): void {
    this.stopping = true;
    this.child?.kill(signal);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null)
      return this.child?.exitCode ?? null;
    this.stopping = true;
    this.child.kill(signal);
    const t0 = performance.now();
    try {
      const code = await this.exitCode(timeoutMs);
      logProcessTime(this.app, 'stop', performance.now() - t0);
      return code;
    } catch {
      this.child.kill('SIGKILL');
      return this.exitCode(5_000);
    }
  }

  kill9(): Promise<number | null> {
    return this.stop('SIGKILL');
  }
}

/** Runs the CLI to completion. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ code: number | null; output: string }> {
  const cli = new AppProcess('cli', env).start(args);
  const t0 = performance.now();
  const code = await cli.exitCode(timeoutMs);
  logProcessTime('cli', 'run', performance.now() - t0);
  return { code, output: cli.text };
}
