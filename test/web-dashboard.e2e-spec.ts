import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { openSeedDb, seedAdapters } from './support/adapter-seed.js';
import { AppProcess, freePort } from './support/app-process.js';
import { launchChromium, openPage, saveScreenshot, seriousA11yViolations } from './support/browser.js';
import { FakeSdNext } from './support/fake-sdnext.js';
import { seedGenerations, type SeedGeneration } from './support/job-seed.js';
import { tempDir } from './support/test-services.js';

jest.setTimeout(120_000);

describe('Dashboard in a browser (embedded mode)', () => {
  const dir = tempDir('web-dashboard');
  const sdnext = new FakeSdNext({ flavour: 'sdnext', stepMs: 2 });
  let api: AppProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const [port, sdnextUrl] = await Promise.all([freePort(), sdnext.start()]);
    api = new AppProcess('api', { DATA_DIR: dir.path, PORT: String(port), SDNEXT_URL: sdnextUrl }, port).start();
    await api.waitReady('/health/ready', 90_000);
    const db = await openSeedDb(`sqlite:${join(dir.path, 'lora-manager.sqlite')}`);
    try {
      const [fox, ink] = await seedAdapters(db, [
        { rootId: 'root00000001', relativePath: 'fox.safetensors', name: 'Fox Style', baseModel: 'SDXL 1.0' },
        { rootId: 'root00000001', relativePath: 'ink.safetensors', name: 'Ink Wash', baseModel: 'Pony' },
      ]);
      const hourAgo = Date.now() - 3600_000;
      const jobs: SeedGeneration[] = Array.from({ length: 6 }, (_, i) => ({
        status: 'succeeded',
        backendId: 'sdnext-0',
        createdAt: new Date(hourAgo + i * 60_000),
        durationMs: 2000,
        adapterIds: i < 4 ? [fox, ink] : [fox],
      }));
      jobs.push({
        status: 'failed',
        backendId: 'sdnext-0',
        createdAt: new Date(hourAgo),
        durationMs: 10,
        error: 'CUDA out of memory',
      });
      await seedGenerations(db, jobs);
    } finally {
      await db.close();
    }
    browser = await launchChromium();
    page = await openPage(browser, { viewport: { width: 1280, height: 1000 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await api?.stop();
    await sdnext.stop();
    dir.remove();
  });

  it('should show totals, the generation chart, top adapters, failures, activity and a live system status', async () => {
    await page.goto(`${api.baseUrl}/?range=24h`);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.locator('.stat', { hasText: 'Adapters' }).filter({ hasText: '2' }).first().waitFor();
    await page.getByRole('img', { name: 'Generations per hour' }).waitFor();
    expect(await page.getByTestId('chart-bar').count()).toBeGreaterThanOrEqual(1);
    const top = page.getByRole('list', { name: 'Most used adapters' });
    await top.getByRole('listitem').first().filter({ hasText: 'Fox Style · 6 images' }).waitFor();
    await page
      .getByText('Fox Style + Ink Wash · 4 images')
      .or(page.getByText('Ink Wash + Fox Style · 4 images'))
      .waitFor();
    await page.getByRole('list', { name: 'Failure reasons' }).getByText('CUDA out of memory').waitFor();
    expect(await page.getByRole('list', { name: 'Activity' }).getByRole('listitem').count()).toBe(7);
    const backends = page.getByRole('list', { name: 'Backends' });
    await backends.getByText('reachable').waitFor();
    await backends.getByText('idle').waitFor();
    await saveScreenshot(page, 'dashboard-analytics');
    expect(await seriousA11yViolations(page)).toEqual([]);

    // The status panel refreshes by itself: a running generation shows up as busy without a reload.
    sdnext.setStepMs(100);
    const queued = await fetch(`${api.baseUrl}/api/v1/generation/queue-generation`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a slow heron', steps: 150 }),
    });
    expect(queued.status).toBe(201);
    await backends.getByText('busy').waitFor({ timeout: 20_000 });
    await page.getByRole('progressbar', { name: 'sdnext-0 progress' }).waitFor();
    sdnext.setStepMs(1);

    await page.getByRole('button', { name: '7d' }).click();
    await page.waitForURL(/range=7d/);
    await page.getByRole('img', { name: 'Generations per hour' }).waitFor();
  });
});
