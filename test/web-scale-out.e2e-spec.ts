/**
 * The web UI against scale-out mode: the API on a fresh PostgreSQL database and a Redis prefix of its own, jobs run
 * by a separate worker process (BullMQ), progress reaching the browser through the API's QueueEvents.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import {
  firstImageWidth,
  launchChromium,
  openPage,
  queueGenerationAndAwaitImage,
  saveScreenshot,
} from './support/browser.js';
import { FakeSdNext } from './support/fake-sdnext.js';
import { createRedisPrefix, createTestDatabase, REDIS_URL, tempDir } from './support/test-services.js';
import { WEB_CORPUS, writeWebCorpus } from './support/web-corpus.js';

jest.setTimeout(60_000);

const EXTRA = 10;
const TOTAL = WEB_CORPUS.length + 1 + EXTRA;

describe('Web UI in a browser (scale-out mode: PostgreSQL, Redis, a worker process)', () => {
  const dir = tempDir('web-scale-out');
  const redis = createRedisPrefix('web-scale-out');
  const sdnext = new FakeSdNext({ flavour: 'sdnext', stepMs: 30 });
  let dropDb: (() => Promise<void>) | undefined;
  let api: AppProcess;
  let worker: AppProcess;
  let browser: Browser;
  let page: Page;
  const shots: string[] = [];

  const startImport = async (): Promise<void> => {
    const runs = page.getByRole('list', { name: 'Import runs' }).getByRole('listitem', { name: /^Import / });
    const before = await runs.count();
    await page.getByRole('button', { name: 'Start import' }).click();
    const items = '[aria-label="Import runs"] > li';
    await page.waitForFunction(`document.querySelectorAll('${items}').length > ${before}`);
    await page.waitForFunction(
      `document.querySelector('${items}')?.getAttribute('aria-label')?.endsWith(' completed') === true`,
      undefined,
      { timeout: 20_000 },
    );
    expect(await runs.first().textContent()).toContain(`seen ${TOTAL}`);
  };

  beforeAll(async () => {
    const root = `${dir.path}/loras`;
    const [db, apiPort, workerPort, sdnextUrl] = await Promise.all([
      createTestDatabase('webscale'),
      freePort(),
      freePort(),
      sdnext.start(),
      writeWebCorpus(root, EXTRA),
    ]);
    dropDb = db.drop;
    const env = {
      DATA_DIR: `${dir.path}/data`,
      DATABASE_URL: db.url,
      REDIS_URL,
      REDIS_PREFIX: redis.prefix,
      LORA_ROOTS: root,
      SDNEXT_URL: sdnextUrl,
    };
    const migrated = await runCli(['migrate'], env);
    expect(migrated.code).toBe(0);
    worker = new AppProcess('worker', { ...env, WORKER_PORT: String(workerPort) }, workerPort).start();
    api = new AppProcess('api', { ...env, PORT: String(apiPort) }, apiPort).start();
    await Promise.all([worker.waitReady(), api.waitReady()]);
    browser = await launchChromium();
    page = await openPage(browser, {}, 20_000);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.allSettled([api?.stop(), worker?.stop()]);
    await sdnext.stop();
    await Promise.allSettled([dropDb?.(), redis.clear()]);
    dir.remove();
    if (shots.length > 0) console.log(`screenshots:\n${shots.join('\n')}`);
  }, 60_000);

  it('should run an import in the worker and show it finish live on the imports page', async () => {
    await page.goto(`${api.baseUrl}/imports`);
    await page.getByRole('heading', { name: 'Imports', level: 1 }).waitFor();
    await page.getByText('No import has run yet.').waitFor();
    await startImport();
    shots.push(await saveScreenshot(page, 'scale-out-imports'));
  });

  it('should load the library from PostgreSQL with facets, search and previews', async () => {
    await page.goto(`${api.baseUrl}/library`);
    await page
      .getByTestId('library-total')
      .filter({ hasText: `${TOTAL} adapters` })
      .waitFor();
    await page.getByRole('checkbox', { name: /^SDXL 1\.0/ }).waitFor();
    await page.getByRole('searchbox', { name: 'Search adapters' }).fill('dragon');
    await page.waitForURL(/[?&]q=dragon/);
    await page.getByRole('listitem', { name: 'Glass Dragon' }).waitFor();
    await page.waitForFunction(
      `(() => { const img = document.querySelector('img[alt="Preview of Glass Dragon"]'); return img?.complete && img.naturalWidth > 0; })()`,
    );
    shots.push(await saveScreenshot(page, 'scale-out-library'));
  });

  it('should queue a generation that the worker runs, with progress to 100 % and the image in the page', async () => {
    await page.goto(`${api.baseUrl}/studio?prompt=${encodeURIComponent('a castle on a hill')}`);
    await page.getByRole('option', { name: 'Euler a' }).waitFor({ state: 'attached' });
    const row = await queueGenerationAndAwaitImage(page, 30);
    expect(await firstImageWidth(row)).toBeGreaterThan(0);
    shots.push(await saveScreenshot(page, 'scale-out-studio'));
  });

  it('should open every page without an error from the API', async () => {
    const pages: [string, string][] = [
      ['/', 'Dashboard'],
      ['/composer', 'Composer'],
      ['/history', 'History'],
      ['/deliveries', 'Deliveries'],
    ];
    for (const [path, heading] of pages) {
      await page.goto(`${api.baseUrl}${path}`);
      await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
      await page.waitForLoadState('networkidle');
      expect(await page.getByRole('alert').allTextContents()).toEqual([]);
    }
    await page.goto(`${api.baseUrl}/history`);
    await page
      .getByRole('button', { name: /^Open image of/ })
      .first()
      .waitFor();
    await page.goto(`${api.baseUrl}/library?q=knight`);
    await page.getByRole('link', { name: 'Dragon Knight' }).click();
    await page.getByRole('heading', { name: 'Dragon Knight', level: 1 }).waitFor();
    await page.getByLabel('Trigger words (comma-separated)').fill('dragonknight, scale-out');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  });
});
