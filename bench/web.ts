// Web UI benchmark: the library page on a 100,000-adapter library in Debian's Chromium. Prints the time until
// the first cards are visible after navigation (Performance API, full load and in-app navigation), the frame
// times while scrolling, the time until cards far down are filled, and the gzipped bundle sizes; beside them,
// as the baseline measured in the same run, the API's own answer time for the first page.
// `BENCH_ADAPTERS` changes the library size. Needs `npm run build` (dist/web) and /usr/bin/chromium.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { AppProcess, freePort } from '../test/support/app-process.js';
import { openSeedDb, seedAdapters, type SeedAdapter } from '../test/support/adapter-seed.js';
import { launchChromium } from '../test/support/browser.js';
import { percentile, report } from './bench-util.js';

const N = Number(process.env.BENCH_ADAPTERS ?? 100_000);
const RUNS = 5;
const WEB_DIR = join(import.meta.dirname, '..', 'web');
const BASES = ['SD 1.5', 'SDXL 1.0', 'Pony', 'Illustrious', 'Flux.1 D'];
const WORDS = ['dragon', 'castle', 'anime', 'portrait', 'neon', 'forest', 'armor', 'watercolor', 'robot', 'ocean'];

function spec(i: number): SeedAdapter {
  const a = WORDS[i % WORDS.length];
  const b = WORDS[(i * 7) % WORDS.length];
  return {
    rootId: 'benchroot0001',
    relativePath: `${BASES[i % BASES.length].replace(/\W+/g, '_')}/${a}_${b}_${i}.safetensors`,
    name: `${a} ${b} ${i}`,
    baseModel: BASES[i % BASES.length],
    tags: [a, b],
    trainedWords: [`${a}${i % 100}`],
    downloads: (i * 37) % 10_000,
    createdAt: new Date(Date.UTC(2024, 0, 1) + i * 60_000),
  };
}

/** Gzipped size of the JavaScript `index.html` loads at once (entry + modulepreloads), and of each route chunk. */
function bundleSizes(): { initialJs: number; css: number; chunks: { file: string; gzip: number }[] } {
  const html = readFileSync(join(WEB_DIR, 'index.html'), 'utf8');
  const initial = [...html.matchAll(/(?:src|href)="\/assets\/([^"]+\.js)"/g)].map((m) => m[1]);
  const css = [...html.matchAll(/href="\/assets\/([^"]+\.css)"/g)].map((m) => m[1]);
  const gz = (file: string) => gzipSync(readFileSync(join(WEB_DIR, 'assets', file))).length;
  const chunks = readdirSync(join(WEB_DIR, 'assets'))
    .filter((f) => f.endsWith('.js') && !initial.includes(f))
    .map((file) => ({ file, gzip: gz(file) }))
    .sort((x, y) => y.gzip - x.gzip);
  return { initialJs: initial.reduce((sum, f) => sum + gz(f), 0), css: css.reduce((sum, f) => sum + gz(f), 0), chunks };
}

/** When each thing the first cards wait for was done, from the navigation's start (Resource Timing). */
interface LoadWaits {
  html: number;
  entryJs: number;
  domContentLoaded: number;
  firstCardInDom: number;
  libraryChunk: number;
  listRequested: number;
  listAnswered: number;
  facetsRequested: number;
}
const LOAD_WAITS = `(() => {
  const resources = performance.getEntriesByType('resource');
  const nav = performance.getEntriesByType('navigation')[0];
  const find = (re) => resources.find((e) => re.test(e.name));
  const list = find(/\\/api\\/v1\\/adapters\\?(?!.*facets)/);
  return {
    html: nav.responseEnd,
    entryJs: find(/\\/assets\\/index-[^/]*\\.js$/)?.responseEnd ?? NaN,
    domContentLoaded: nav.domContentLoadedEventEnd,
    firstCardInDom: window.__firstCardAt ?? NaN,
    libraryChunk: find(/\\/assets\\/library-page-[^/]*\\.js$/)?.responseEnd ?? NaN,
    listRequested: list?.startTime ?? NaN,
    listAnswered: list?.responseEnd ?? NaN,
    facetsRequested: find(/\\/api\\/v1\\/adapters\\?.*facets/)?.startTime ?? NaN,
  };
})()`;

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (value: number) => `${value.toFixed(0)} ms`;

const dir = mkdtempSync(join(tmpdir(), 'lm-bench-web-'));
const databaseUrl = `sqlite:${join(dir, 'bench.sqlite')}`;
const port = await freePort();
const env = { DATA_DIR: dir, DATABASE_URL: databaseUrl, PORT: String(port), LOG_LEVEL: 'warn' };
let api = new AppProcess('api', env, port).start();
try {
  await api.waitReady('/health/ready', 60_000);
  await api.stop();
  const t0 = performance.now();
  const db = await openSeedDb(databaseUrl);
  for (let i = 0; i < N; i += 10_000)
    await seedAdapters(
      db,
      Array.from({ length: Math.min(10_000, N - i) }, (_, k) => spec(i + k)),
    );
  await db.close();
  process.stdout.write(`seeded ${N} adapters in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  api = new AppProcess('api', env, port).start();
  await api.waitReady('/health/ready', 60_000);

  const apiTimes: number[] = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const started = performance.now();
    const res = await fetch(`${api.baseUrl}/api/v1/adapters?page=1&limit=100`);
    await res.json();
    if (i > 0) apiTimes.push(performance.now() - started);
  }

  const browser = await launchChromium();
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const firstCard = '[aria-label=Adapters] article[role=listitem] .card-name';
  // The moment the first card enters the DOM, without the latency of the test driver's polling.
  await page.addInitScript(`new MutationObserver((_, observer) => {
    if (document.querySelector('${firstCard}')) { window.__firstCardAt = performance.now(); observer.disconnect(); }
  }).observe(document, { childList: true, subtree: true })`);
  const loadTimes: number[] = [];
  const waits: LoadWaits[] = [];
  for (let i = 0; i < RUNS + 1; i++) {
    await page.goto(`${api.baseUrl}/library?run=${i}`);
    await page.waitForSelector(firstCard);
    // performance.now() counts from the navigation's start: the moment the first cards are in the page.
    const at = await page.evaluate<number>('performance.now()');
    if (i > 0) {
      loadTimes.push(at);
      waits.push(await page.evaluate<LoadWaits>(LOAD_WAITS));
    }
  }
  const navTimes: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await page.goto(`${api.baseUrl}/`);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const started = await page.evaluate<number>('performance.now()');
    await page.getByRole('link', { name: 'Library', exact: true }).click();
    await page.waitForSelector(firstCard);
    navTimes.push((await page.evaluate<number>('performance.now()')) - started);
  }

  // Scroll 8 screens per second for 3 s, recording every frame's duration.
  await page.goto(`${api.baseUrl}/library`);
  await page.waitForSelector(firstCard);
  const frames = await page.evaluate<number[]>(`new Promise((done) => {
    const times = []; let last = performance.now(); const end = last + 3000;
    const step = (now) => { times.push(now - last); last = now; window.scrollBy(0, 900 * 8 / 60);
      if (now < end) requestAnimationFrame(step); else done(times); };
    requestAnimationFrame(step);
  })`);
  // Jump to the middle of the library and wait until the cards there are filled.
  const jumpStarted = await page.evaluate<number>('performance.now()');
  await page.evaluate('window.scrollTo(0, document.documentElement.scrollHeight / 2)');
  await page.waitForFunction(
    `[...document.querySelectorAll('[aria-label=Adapters] [role=listitem]')].some((e) => {
      const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight && e.tagName === 'ARTICLE'; })`,
  );
  const jumpMs = (await page.evaluate<number>('performance.now()')) - jumpStarted;
  const total = await page.getByTestId('library-total').textContent();
  await browser.close();

  const sizes = bundleSizes();
  const library = sizes.chunks.filter((c) => /library-page|use-library/.test(c.file)).reduce((s, c) => s + c.gzip, 0);
  const p50 = (xs: number[]) => percentile(xs, 50);
  const p95 = (xs: number[]) => percentile(xs, 95);
  report(`Web UI, library page on ${N.toLocaleString()} adapters (${total ?? ''})`, [
    {
      metric: 'first cards visible after page load (p50 / p95)',
      measured: `${ms(p50(loadTimes))} / ${ms(p95(loadTimes))}`,
      baseline: `API page 1: ${ms(p50(apiTimes))} / ${ms(p95(apiTimes))}`,
      target: '≤ 1000 ms',
    },
    {
      metric: '  of which (p50): HTML · entry JS · DOMContentLoaded',
      measured: `${ms(p50(waits.map((w) => w.html)))} · ${ms(p50(waits.map((w) => w.entryJs)))} · ${ms(p50(waits.map((w) => w.domContentLoaded)))}`,
      baseline: '—',
    },
    {
      metric: '  library chunk loaded · first page asked · answered',
      measured: `${ms(p50(waits.map((w) => w.libraryChunk)))} · ${ms(p50(waits.map((w) => w.listRequested)))} · ${ms(p50(waits.map((w) => w.listAnswered)))}`,
      baseline: '—',
    },
    {
      metric: '  first card in the DOM (before the driver sees it)',
      measured: ms(p50(waits.map((w) => w.firstCardInDom))),
      baseline: '—',
    },
    {
      metric: '  facet counts asked (after the first page)',
      measured: ms(p50(waits.map((w) => w.facetsRequested))),
      baseline: '—',
    },
    {
      metric: 'first cards visible after in-app navigation (p50 / p95)',
      measured: `${ms(p50(navTimes))} / ${ms(p95(navTimes))}`,
      baseline: `API page 1: ${ms(p50(apiTimes))}`,
    },
    {
      metric: 'scrolling frame time (p50 / p95 / max)',
      measured: `${p50(frames).toFixed(1)} / ${p95(frames).toFixed(1)} / ${Math.max(...frames).toFixed(1)} ms`,
      baseline: '16.7 ms at 60 Hz',
    },
    { metric: 'jump to the middle: cards filled', measured: ms(jumpMs), baseline: `API page 1: ${ms(p50(apiTimes))}` },
    { metric: 'initial JavaScript (gzip)', measured: kb(sizes.initialJs), baseline: '—', target: '≤ 250 KB' },
    { metric: 'initial CSS (gzip)', measured: kb(sizes.css), baseline: '—' },
    { metric: 'library route chunks (gzip, loaded on demand)', measured: kb(library), baseline: '—' },
  ]);
  process.stdout.write(`\nroute chunks (gzip): ${sizes.chunks.map((c) => `${c.file} ${kb(c.gzip)}`).join(', ')}\n`);
} finally {
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
}
