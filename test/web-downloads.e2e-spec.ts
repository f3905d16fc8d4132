import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { AppProcess, freePort } from './support/app-process.js';
import { launchChromium, openPage, saveScreenshot, seriousA11yViolations } from './support/browser.js';
import { buildSafetensors, tinyPng } from './support/corpus-builder.js';
import { FakeCivitai } from './support/fake-civitai.js';
import { tempDir } from './support/test-services.js';

jest.setTimeout(120_000);

const FILE = buildSafetensors({ seed: 'web-dl', tensors: [{ name: 'w', dtype: 'F32', shape: [2 * 256 * 1024] }] });

describe('Web UI: download from Civitai and see its example images (embedded mode)', () => {
  const dir = tempDir('web-downloads');
  const root = join(dir.path, 'loras');
  const fake = new FakeCivitai();
  let api: AppProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(root, { recursive: true });
    await fake.start();
    fake.addAsset('/assets/fox.png', tinyPng(16, 16, [240, 120, 20]), 'image/png');
    fake.addModel({
      id: 700,
      name: 'Paper Fox',
      versions: [
        {
          id: 7001,
          files: [{ name: 'paper_fox.safetensors', primary: true, sha256: FILE.sha256, sizeKB: FILE.size / 1024 }],
          images: [{ url: `${fake.url}/assets/fox.png`, nsfwLevel: 1, meta: { prompt: 'a paper fox', seed: 3 } }],
        },
      ],
      files: { 7001: { name: 'paper_fox.safetensors', bytes: FILE.bytes } },
    });
    // Slow enough that the progress bar shows.
    fake.fileBytesPerSecond = 1024 * 1024;
    const port = await freePort();
    api = new AppProcess(
      'api',
      {
        DATA_DIR: join(dir.path, 'data'),
        PORT: String(port),
        LORA_ROOTS: root,
        CIVITAI_URL: fake.url,
        CIVITAI_DOWNLOAD_MIN_FREE_MB: '1',
      },
      port,
    ).start();
    await api.waitReady();
    browser = await launchChromium();
    page = await openPage(browser);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await api?.stop();
    await fake.stop();
    dir.remove();
  });

  it('should download a pasted Civitai URL with a live progress bar, open the adapter, and show its example images', async () => {
    await page.goto(`${api.baseUrl}/downloads`);
    await page.getByRole('button', { name: 'Download from Civitai' }).click();
    const dialog = page.getByRole('dialog', { name: 'Download from Civitai' });
    await dialog
      .getByLabel('Civitai URL or version id')
      .fill('https://civitai.com/models/700/paper-fox?modelVersionId=7001');
    await dialog.getByLabel(/^Folder/).fill('animals');
    await dialog.getByRole('button', { name: 'Download' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const item = page.getByRole('listitem', { name: /Download animals\/paper_fox\.safetensors/ });
    await item.getByRole('progressbar', { name: 'Download progress' }).waitFor();
    await item.getByTestId('download-status').filter({ hasText: 'completed' }).waitFor();
    expect(existsSync(join(root, 'animals/paper_fox.safetensors'))).toBe(true);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await saveScreenshot(page, 'downloads');

    await item.getByRole('link', { name: 'Open adapter' }).click();
    const examples = page.getByRole('region', { name: 'Example images' });
    await examples.getByRole('button', { name: 'Fetch from Civitai' }).click();
    const image = examples.getByRole('img', { name: 'a paper fox' });
    await image.waitFor();
    expect(await image.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(16);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await saveScreenshot(page, 'adapter-example-images');
  });
});
