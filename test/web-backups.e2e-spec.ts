import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { writeLibrary } from './support/archive-fixtures.js';
import { AppProcess, freePort } from './support/app-process.js';
import { launchChromium, openPage, seriousA11yViolations } from './support/browser.js';
import { importJson } from './support/cli-library.js';
import { tempDir } from './support/test-services.js';

jest.setTimeout(120_000);

describe('Backups & archive page in a browser (embedded mode)', () => {
  const dir = tempDir('web-backups');
  let api: AppProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const root = join(dir.path, 'loras');
    await writeLibrary(root);
    const env = { DATA_DIR: join(dir.path, 'data'), LORA_ROOTS: root };
    await importJson(env);
    const port = await freePort();
    api = new AppProcess('api', { ...env, PORT: String(port) }, port).start();
    await api.waitReady();
    browser = await launchChromium();
    page = await openPage(browser, { acceptDownloads: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await api?.stop();
    dir.remove();
  });

  it('should export, dry-run and apply an import, and make, download and delete a backup', async () => {
    await page.goto(`${api.baseUrl}/backups`);
    await page.getByRole('link', { name: 'Backups & archive' }).waitFor();
    await expect(page.getByTestId('archive-estimate').textContent()).resolves.toMatch(/2 adapters .* 3 files/);

    const [exported] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download archive' }).click(),
    ]);
    const archive = join(dir.path, 'export.zip');
    await exported.saveAs(archive);

    await page.getByLabel('Archive', { exact: true }).setInputFiles(archive);
    await page.getByRole('button', { name: 'Dry run' }).click();
    const report = page.getByTestId('archive-report');
    await report.getByText('Dry run: nothing was written.').waitFor();
    await expect(report.textContent()).resolves.toMatch(/unchanged 2/);
    await page.getByRole('button', { name: 'Apply' }).click();
    await report.getByText('Imported.').waitFor();

    await page.getByRole('button', { name: 'Back up now' }).click();
    const backups = page.getByRole('list', { name: 'Backups' });
    await backups.getByText(/^lora-manager-.*\.sqlite$/).waitFor();
    const [downloaded] = await Promise.all([
      page.waitForEvent('download'),
      backups.getByRole('button', { name: 'Download' }).click(),
    ]);
    expect(downloaded.suggestedFilename()).toMatch(/\.sqlite$/);
    await backups.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No backup yet.').waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
  });
});
