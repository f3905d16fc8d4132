import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser, Locator, Page } from 'playwright-core';
import { openSeedDb, seedAdapters, seedSpec } from './support/adapter-seed.js';
import { AppProcess, freePort } from './support/app-process.js';
import { launchChromium, openPage, saveScreenshot } from './support/browser.js';
import { tempDir } from './support/test-services.js';

jest.setTimeout(120_000);

describe('Similar adapters panel in a browser', () => {
  const dir = tempDir('web-recommendations');
  let api: AppProcess;
  let browser: Browser;
  let page: Page;
  let inkId: string;

  beforeAll(async () => {
    const port = await freePort();
    api = new AppProcess('api', { DATA_DIR: dir.path, PORT: String(port) }, port).start();
    await api.waitReady('/health/ready', 120_000);
    const db = await openSeedDb(`sqlite:${join(dir.path, 'lora-manager.sqlite')}`);
    try {
      const [ink, , , neon] = await seedAdapters(db, [
        seedSpec('ink', 'Ink Wash Style', ['style', 'ink', 'watercolor'], { triggerWords: ['ink wash'] }),
        seedSpec('one', 'Ink One', ['style', 'ink', 'alpha']),
        seedSpec('two', 'Ink Two', ['style', 'ink', 'beta']),
        seedSpec('neon', 'Neon Lights', ['lighting']),
        seedSpec('robot', 'Mecha Robot', ['robot', 'mecha']),
      ]);
      inkId = ink;
      // Two images made with Ink Wash Style and Neon Lights together: the only link between them.
      for (let n = 0; n < 2; n++) {
        const resultId = randomUUID();
        for (const adapterId of [ink, neon]) {
          await db.exec('INSERT INTO generation_result_adapters (result_id, adapter_id, base_model) VALUES (?, ?, ?)', [
            resultId,
            adapterId,
            'SDXL 1.0',
          ]);
        }
      }
    } finally {
      await db.close();
    }
    browser = await launchChromium();
    page = await openPage(browser);
  }, 200_000);

  afterAll(async () => {
    await browser?.close();
    await api?.stop();
    dir.remove();
  });

  const panel = (): Locator => page.getByRole('region', { name: 'Similar' });
  const hit = (name: string): Locator =>
    panel()
      .getByTestId('recommendation')
      .filter({ has: page.getByRole('link', { name, exact: true }) });
  const shownNames = async (): Promise<string[]> =>
    panel().getByTestId('recommendation').locator('a').allTextContents();

  it('should show similar adapters with the reasons for each, and not unrelated ones', async () => {
    await page.goto(`${api.baseUrl}/adapters/${inkId}`);
    await page.getByRole('heading', { name: 'Ink Wash Style', level: 1 }).waitFor();
    await hit('Ink One').waitFor();
    const names = await shownNames();
    expect(names).toEqual(expect.arrayContaining(['Ink One', 'Ink Two', 'Neon Lights']));
    expect(names).not.toContain('Ink Wash Style');
    expect(names).not.toContain('Mecha Robot');
    await expect(
      hit('Ink One')
        .getByText(/^Shares words: .*ink/)
        .count(),
    ).resolves.toBe(1);
    await expect(hit('Neon Lights').getByText('Used together: 2 images').count()).resolves.toBe(1);
    expect(names.indexOf('Ink One')).toBeLessThan(names.indexOf('Ink Two'));
    await saveScreenshot(page, 'similar-panel');
  });

  it('should rank an adapter marked not useful lower at once, and say why', async () => {
    await page.getByRole('button', { name: 'Not useful: Ink One' }).click();
    await hit('Ink One').getByText('Marked not useful 1 time').waitFor();
    const names = await shownNames();
    expect(names.indexOf('Ink Two')).toBeLessThan(names.indexOf('Ink One'));

    // The ranking is stored, not kept in the page: a reload shows the same order.
    await page.reload();
    await hit('Ink One').getByText('Marked not useful 1 time').waitFor();
    const again = await shownNames();
    expect(again.indexOf('Ink Two')).toBeLessThan(again.indexOf('Ink One'));
  });
});
