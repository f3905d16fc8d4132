// npm run bench:previews — /health/live while 24 viewers fetch the image embedded in a LoRA whose header is
// ~20 MiB (a 5.5 MiB image and training metadata), cold (first requests) and warm, next to the idle latency
// measured in the same run; and the API process's peak memory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppProcess, freePort, runCli } from '../test/support/app-process.js';
import { tinyPng, writeAdapter } from '../test/support/corpus-builder.js';
import { tempDir } from '../test/support/test-services.js';
import { percentile, report, time } from './bench-util.js';

const VIEWERS = 24;
const dir = tempDir('previews');
const root = join(dir.path, 'loras');
const env = { DATA_DIR: join(dir.path, 'data'), LORA_ROOTS: root, LOG_LEVEL: 'warn' };

const image = Buffer.concat([tinyPng(), Buffer.alloc(5.5 * 1024 * 1024, 7)]);
await writeAdapter(root, {
  relPath: 'big/embedded.safetensors',
  safetensors: {
    seed: 'big',
    metadata: {
      'modelspec.thumbnail': `data:image/png;base64,${image.toString('base64')}`,
      ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`ss_dataset_${i}`, 'y'.repeat(1024 * 1024)])),
    },
  },
});
const imported = await runCli(['import'], env, 300_000);
if (imported.code !== 0) throw new Error(`import failed:\n${imported.output}`);

const port = await freePort();
const api = new AppProcess('api', { ...env, PORT: String(port) }, port).start();
try {
  await api.waitReady();
  const list = (await (await fetch(`${api.baseUrl}/api/v1/adapters`)).json()) as { items: { id: string }[] };
  const url = `${api.baseUrl}/api/v1/adapters/${list.items[0].id}/preview`;
  const peakRssMb = () =>
    Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${api.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  const live = async () => (await time(() => fetch(`${api.baseUrl}/health/live`).then((r) => r.arrayBuffer()))).ms;

  const idle: number[] = [];
  for (let i = 0; i < 20; i++) idle.push(await live());
  const rssIdle = peakRssMb();

  /** 24 preview requests at once, /health/live polled meanwhile: its latencies, and the preview batch's time. */
  const round = async () => {
    const samples: number[] = [];
    let done = false;
    const poll = (async () => {
      // A reset socket (keep-alive race under load) is retried, not fatal: a crash here would orphan the API.
      while (!done)
        await live().then(
          (ms) => samples.push(ms),
          () => undefined,
        );
    })();
    const { ms } = await time(async () => {
      const bodies = await Promise.all(Array.from({ length: VIEWERS }, () => fetch(url).then((r) => r.arrayBuffer())));
      if (!bodies.every((b) => b.byteLength === image.length)) throw new Error('a preview came back wrong');
    });
    done = true;
    await poll;
    return { samples, ms };
  };
  const cold = await round();
  const rssCold = peakRssMb();
  const warm = await round();

  const fmt = (s: number[]) => `p50 ${percentile(s, 50).toFixed(0)} ms, max ${Math.max(...s).toFixed(0)} ms`;
  report(`/health/live under ${VIEWERS} concurrent embedded-preview requests (~20 MiB header)`, [
    {
      metric: '/health/live, first 24 requests (cold)',
      measured: fmt(cold.samples),
      baseline: `idle ${fmt(idle)}`,
    },
    { metric: '/health/live, next 24 requests (warm)', measured: fmt(warm.samples), baseline: `idle ${fmt(idle)}` },
    {
      metric: `${VIEWERS} previews served (cold / warm)`,
      measured: `${cold.ms.toFixed(0)} / ${warm.ms.toFixed(0)} ms`,
      baseline: '',
    },
    {
      metric: 'API peak RSS growth (cold round)',
      measured: `+${(rssCold - rssIdle).toFixed(0)} MB`,
      baseline: `${rssIdle.toFixed(0)} MB idle`,
    },
  ]);
} catch (error) {
  process.stdout.write(`API output:\n${api.text.slice(-3000)}\n`);
  throw error;
} finally {
  await api.stop();
  dir.remove();
}
