import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import yauzl from 'yauzl';
import { AppProcess, freePort } from './support/app-process.js';
import { launchChromium, openPage, saveScreenshot, seriousA11yViolations } from './support/browser.js';
import { FakeSdNext } from './support/fake-sdnext.js';
import { tempDir } from './support/test-services.js';

jest.setTimeout(120_000);

/** The names of a ZIP's entries; yauzl refuses an archive whose structure is broken. */
async function entryNames(zip: Buffer): Promise<string[]> {
  const file = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(zip, { lazyEntries: true }, (e, z) => (e ? reject(e) : resolve(z))),
  );
  const names: string[] = [];
  await new Promise<void>((resolve, reject) => {
    file.on('error', reject);
    file.on('end', () => resolve());
    file.on('entry', (entry: yauzl.Entry) => {
      names.push(entry.fileName);
      file.readEntry();
    });
    file.readEntry();
  });
  return names;
}

describe('History page: export and retention in a browser (embedded mode)', () => {
  const dir = tempDir('web-results-export');
  const sdnext = new FakeSdNext({ flavour: 'sdnext', stepMs: 2, imageFormat: 'png' });
  let api: AppProcess;
  let browser: Browser;
  let page: Page;
  let ids: string[] = [];

  beforeAll(async () => {
    const [port, sdnextUrl] = await Promise.all([freePort(), sdnext.start()]);
    api = new AppProcess(
      'api',
      { DATA_DIR: join(dir.path, 'data'), PORT: String(port), SDNEXT_URL: sdnextUrl, RESULTS_MAX_AGE_DAYS: '30' },
      port,
    );
    api.start();
    await api.waitReady();
    const queued = await fetch(`${api.baseUrl}/api/v1/generation/queue-generation`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a fox to export', steps: 2, batch_size: 2 }),
    });
    const { id } = (await queued.json()) as { id: string };
    const deadline = Date.now() + 30_000;
    while (ids.length < 2 && Date.now() < deadline) {
      const list = (await (await fetch(`${api.baseUrl}/api/v1/results?limit=10`)).json()) as {
        items: { id: string; jobId: string }[];
      };
      ids = list.items.filter((r) => r.jobId === id).map((r) => r.id);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(ids).toHaveLength(2);
    browser = await launchChromium();
    page = await openPage(browser, { acceptDownloads: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await api?.stop();
    await sdnext.stop();
    dir.remove();
  });

  it('should select results, show the estimate, and download a valid ZIP of them', async () => {
    await page.goto(`${api.baseUrl}/history`);
    for (const id of ids) await page.getByRole('checkbox', { name: `Select ${id.slice(0, 8)}` }).check();
    const panel = page.getByRole('region', { name: 'Export' });
    await panel.getByText('2 selected').waitFor();
    await panel.getByRole('button', { name: 'Export ZIP…' }).click();
    await panel
      .getByRole('status')
      .filter({ hasText: /^2 images, about [\d.]+ MB$/ })
      .waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      panel.getByRole('button', { name: 'Download ZIP' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^results-[\d-]+\.zip$/);
    const path = join(dir.path, 'download.zip');
    await download.saveAs(path);
    const names = await entryNames(readFileSync(path));
    expect(names.sort()).toEqual(
      [...ids.flatMap((id) => [`results/${id}.png`, `results/${id}.json`]), 'index.json'].sort(),
    );
    await saveScreenshot(page, 'history-export');
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it('should show an admin the retention dry run', async () => {
    await page.getByText('Retention', { exact: true }).click();
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page
      .getByRole('status', { name: 'Dry run report' })
      .filter({ hasText: /Would remove 0 results \(0\.0 MB\); 2 would be left\./ })
      .waitFor();
    await page
      .getByRole('status', { name: 'Dry run report' })
      .getByText(/Older than 30 days\./)
      .waitFor();
  });
});
