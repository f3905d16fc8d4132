import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { AppProcess, freePort } from './support/app-process.js';
import { launchChromium, openPage, seriousA11yViolations } from './support/browser.js';
import { importJson } from './support/cli-library.js';
import { writeAdapter } from './support/corpus-builder.js';
import { queryRows } from './support/db-inspect.js';
import { FakeCivitai } from './support/fake-civitai.js';
import { tempDir } from './support/test-services.js';

jest.setTimeout(120_000);

// The Civitai path a user takes in the browser: look a file up, link another by pasting a URL, check for updates and
// see the newer versions, find it with the library's "Has update" filter and its badge, and follow a run on Imports.
describe('Civitai in the web UI (embedded mode)', () => {
  const dir = tempDir('web-civitai');
  const root = join(dir.path, 'loras');
  const fake = new FakeCivitai();
  let api: AppProcess;
  let browser: Browser;
  let page: Page;
  let dbUrl: string;
  const idOf = async (relPath: string) =>
    (await queryRows<{ id: string }>(dbUrl, 'SELECT id FROM adapters WHERE relative_path = ?', [relPath]))[0].id;

  beforeAll(async () => {
    await fake.start();
    const ink = await writeAdapter(root, { relPath: 'ink.safetensors', safetensors: { seed: 'web-ink' } });
    await writeAdapter(root, { relPath: 'paper.safetensors', safetensors: { seed: 'web-paper' } });
    fake.addModel({
      id: 300,
      name: 'Ink Wash',
      versions: [{ id: 3001, baseModel: 'Illustrious', files: [{ name: 'ink.safetensors', sha256: ink.sha256 }] }],
    });
    fake.addModel({
      id: 500,
      name: 'Paper Cut',
      versions: [
        { id: 5002, name: 'Paper v2', baseModel: 'SDXL 1.0', publishedAt: '2025-02-01T00:00:00.000Z' },
        { id: 5001, name: 'Paper v1', baseModel: 'SDXL 1.0', publishedAt: '2025-01-01T00:00:00.000Z' },
      ],
    });
    const env = { DATA_DIR: join(dir.path, 'data'), LORA_ROOTS: root };
    dbUrl = `sqlite:${join(dir.path, 'data', 'lora-manager.sqlite')}`;
    await importJson(env, '--hash', 'full');
    const port = await freePort();
    api = new AppProcess('api', { ...env, PORT: String(port), CIVITAI_URL: fake.url }, port).start();
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

  it('should look up, link by URL, show newer versions, filter by "Has update" and show a run on Imports', async () => {
    await page.goto(`${api.baseUrl}/adapters/${await idOf('ink.safetensors')}`);
    await page.getByRole('button', { name: 'Look up on Civitai' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Found on Civitai: model 300' }).waitFor()).resolves.toBe(
      undefined,
    );
    await page.getByRole('link', { name: /Civitai model 300, version 3001/ }).waitFor();

    await page.goto(`${api.baseUrl}/adapters/${await idOf('paper.safetensors')}`);
    await page.getByRole('button', { name: 'Link to Civitai…' }).click();
    await page.getByLabel('Civitai URL, model or version id, or AIR').fill('https://civitai.com/models/999');
    await page.getByRole('button', { name: 'Link', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: '999' }).waitFor();
    await page
      .getByLabel('Civitai URL, model or version id, or AIR')
      .fill('https://civitai.com/models/500?modelVersionId=5001');
    await page.getByRole('button', { name: 'Link', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Linked to version 5001' }).waitFor();
    await page.getByRole('button', { name: 'Check for updates' }).click();
    const newer = page.getByRole('list', { name: 'Newer versions' });
    await newer.getByRole('link', { name: 'Paper v2' }).waitFor();
    expect(await newer.getByRole('link', { name: 'Paper v2' }).getAttribute('href')).toBe(
      'https://civitai.com/models/500?modelVersionId=5002',
    );
    expect(await seriousA11yViolations(page)).toEqual([]);

    await page.goto(`${api.baseUrl}/library?hasUpdate=true`);
    await page.getByTestId('library-total').filter({ hasText: '1 adapters' }).waitFor();
    const card = page.getByRole('listitem', { name: 'Paper Cut' });
    await card.getByText('update', { exact: true }).waitFor();
    expect(await page.getByRole('listitem', { name: 'Ink Wash' }).count()).toBe(0);

    await page.goto(`${api.baseUrl}/imports`);
    await page.getByRole('button', { name: 'Check linked adapters for updates' }).click();
    const run = page.getByRole('list', { name: 'Civitai runs' }).getByRole('listitem').first();
    await run.getByTestId('civitai-run-status').filter({ hasText: 'completed' }).waitFor();
    await run.getByText(/2\/2 done .* with updates 1/).waitFor();
  });
});
