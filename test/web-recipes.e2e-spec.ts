import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openSeedDb, seedAdapters } from './support/adapter-seed.js';
import { AppProcess, freePort } from './support/app-process.js';
import { launchChromium, openPage, saveScreenshot } from './support/browser.js';
import { png, tEXt } from './support/recipe-images.js';
import { tempDir } from './support/test-services.js';

jest.setTimeout(120_000);

const INFOTEXT = [
  'a lighthouse at dusk <lora:alpha:0.8> <lora:ghost:0.3>',
  'Negative prompt: blurry',
  'Steps: 12, Sampler: Euler a, CFG scale: 5.5, Seed: 777, Size: 512x768, Lora hashes: "ghost: deadbeef0042"',
].join('\n');

describe('Recipes page in a browser', () => {
  const dir = tempDir('web-recipes');
  let api: AppProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const port = await freePort();
    api = new AppProcess('api', { DATA_DIR: dir.path, PORT: String(port) }, port).start();
    await api.waitReady('/health/ready', 120_000);
    const db = await openSeedDb(`sqlite:${join(dir.path, 'lora-manager.sqlite')}`);
    try {
      const [alpha] = await seedAdapters(db, [
        { rootId: 'root00000001', relativePath: 'alpha.safetensors', name: 'Alpha', sha256: 'a1'.repeat(32) },
      ]);
      await db.exec(`UPDATE adapters SET lora_stem = 'alpha', lora_name = 'alpha' WHERE id = ?`, [alpha]);
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

  it('should read a dropped image, save it as a recipe, and compose its prompt', async () => {
    await page.goto(`${api.baseUrl}/`);
    await page.getByRole('link', { name: 'Recipes' }).click();
    await page.getByRole('heading', { name: 'Recipes', level: 1 }).waitFor();
    await page.getByLabel('Image to read').setInputFiles({
      name: 'lighthouse.png',
      mimeType: 'image/png',
      buffer: png(8, 8, [tEXt('parameters', INFOTEXT)]),
    });
    const found = page.getByRole('list', { name: 'LoRAs found' });
    await found.getByText('in library (name)').waitFor();
    await expect(found.getByText('missing').count()).resolves.toBe(1);
    await expect(found.getByText('hash deadbeef0042').count()).resolves.toBe(1);
    await page.getByLabel('Name').fill('Lighthouse');
    await page.getByRole('button', { name: 'Save recipe' }).click();

    await page.getByRole('list', { name: 'Recipes' }).getByRole('button', { name: 'Lighthouse' }).waitFor();
    await page.getByRole('heading', { name: 'Lighthouse', level: 2 }).waitFor();
    await page.getByRole('button', { name: 'Compose' }).click();
    const composed = page.getByLabel('Composed prompt');
    await composed.getByText('a lighthouse at dusk').waitFor();
    const text = await composed.locator('pre').textContent();
    expect(text).toContain('<lora:alpha:0.8>');
    expect(text).not.toContain('ghost');
    await saveScreenshot(page, 'recipes-page');

    await page.getByLabel('Search').fill('nothing like this');
    await page.getByText('No recipe yet').waitFor();
  });

  it('should narrow the list to a tag from a recipe badge, keep it in the URL, and clear it', async () => {
    for (const [name, tags] of [
      ['Harbour at night', ['Coast', 'night']],
      ['Forest path', ['forest']],
    ] as const) {
      const made = await fetch(`${api.baseUrl}/api/v1/recipes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, tags, prompt: name.toLowerCase() }),
      });
      expect(made.status).toBe(201);
    }
    await page.goto(`${api.baseUrl}/recipes`);
    const recipes = page.getByRole('list', { name: 'Recipes' });
    await recipes.getByRole('button', { name: 'Forest path' }).waitFor();
    await recipes.getByRole('button', { name: 'coast' }).click();
    await page.getByRole('button', { name: 'Any tag' }).waitFor();
    await recipes.getByRole('button', { name: 'Forest path' }).waitFor({ state: 'detached' });
    expect(await recipes.locator(':scope > li').count()).toBe(1);
    await recipes.getByRole('button', { name: 'Harbour at night' }).waitFor();
    expect(new URL(page.url()).searchParams.get('tag')).toBe('coast');

    await page.reload();
    await recipes.getByRole('button', { name: 'Harbour at night' }).waitFor();
    expect(await recipes.locator(':scope > li').count()).toBe(1);
    await page.getByRole('button', { name: 'Any tag' }).click();
    await recipes.getByRole('button', { name: 'Forest path' }).waitFor();
    expect(new URL(page.url()).searchParams.has('tag')).toBe(false);
  });

  it("should edit a recipe's LoRAs: change a weight, remove one, add one by name, and compose with them", async () => {
    await page.goto(`${api.baseUrl}/recipes`);
    await page.getByRole('list', { name: 'Recipes' }).getByRole('button', { name: 'Lighthouse' }).click();
    const editor = page.getByRole('form', { name: 'Edit LoRAs' });
    await editor.getByLabel('Weight of alpha').fill('0.6');
    await editor.getByRole('button', { name: 'Remove ghost' }).click();
    await editor.getByLabel('LoRA name').fill('newstyle');
    await editor.getByLabel('Weight', { exact: true }).fill('0.4');
    await editor.getByRole('button', { name: 'Add LoRA' }).click();
    await editor.getByRole('button', { name: 'Save LoRAs' }).click();
    await page.getByRole('status').getByText('LoRAs saved.').waitFor();

    const id = new URL(page.url()).searchParams.get('id')!;
    const stored = (await (await fetch(`${api.baseUrl}/api/v1/recipes/${id}`)).json()) as {
      loras: { name: string; weight: number; adapterId: string | null }[];
    };
    expect(stored.loras.map((l) => [l.name, l.weight, l.adapterId !== null])).toEqual([
      ['alpha', 0.6, true],
      ['newstyle', 0.4, false],
    ]);
    const shown = page.getByRole('list', { name: 'Recipe LoRAs' });
    await shown.getByText('newstyle').waitFor();
    await expect(shown.getByText('ghost').count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Compose' }).click();
    const text = await page.getByLabel('Composed prompt').locator('pre').textContent();
    expect(text).toContain('<lora:alpha:0.6>');
  });
});
