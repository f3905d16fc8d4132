import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { AppProcess, freePort } from './support/app-process.js';
import {
  firstImageWidth,
  launchChromium,
  queueGenerationAndAwaitImage,
  saveScreenshot,
  seriousA11yViolations,
} from './support/browser.js';
import { FakeSdNext } from './support/fake-sdnext.js';
import { tempDir } from './support/test-services.js';
import { DUPLICATE_FILE, WEB_CORPUS, writeWebCorpus } from './support/web-corpus.js';

jest.setTimeout(120_000);

const EXTRA = 40;
const TOTAL = WEB_CORPUS.length + 1 + EXTRA;

async function importAll(base: string): Promise<void> {
  const start = await fetch(`${base}/api/v1/imports`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ hash: 'full' }),
  });
  expect(start.status).toBe(201);
  const { id } = (await start.json()) as { id: string };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const run = (await (await fetch(`${base}/api/v1/imports/${id}`)).json()) as { status: string };
    if (run.status === 'completed') return;
    if (run.status === 'failed' || Date.now() > deadline) throw new Error(`import ${id} ended ${run.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('Web UI in a browser (embedded mode)', () => {
  const dir = tempDir('web-ui');
  const sdnext = new FakeSdNext({ flavour: 'sdnext', stepMs: 30 });
  let api: AppProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const shots: string[] = [];

  const expectAccessible = async () => expect(await seriousA11yViolations(page)).toEqual([]);
  const total = (count: number) =>
    page
      .getByTestId('library-total')
      .filter({ hasText: `${count} adapters` })
      .waitFor();

  beforeAll(async () => {
    const root = `${dir.path}/loras`;
    await writeWebCorpus(root, EXTRA);
    // One adapter whose sidecar cannot be read: the import keeps it, with a warning.
    writeFileSync(`${root}/misc/extra-0000.civitai.info`, '{"id": 1, "files": [');
    const [port, sdnextUrl] = await Promise.all([freePort(), sdnext.start()]);
    api = new AppProcess(
      'api',
      { DATA_DIR: `${dir.path}/data`, PORT: String(port), LORA_ROOTS: root, SDNEXT_URL: sdnextUrl },
      port,
    );
    api.start();
    await api.waitReady();
    await importAll(api.baseUrl);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    // Generous: CI machines are shared and a slow answer is not what these tests are about.
    page.setDefaultTimeout(30_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await api?.stop();
    await sdnext.stop();
    dir.remove();
    if (shots.length > 0) console.log(`screenshots:\n${shots.join('\n')}`);
  });

  it('should open the dashboard at / with counts and links to /docs and /metrics', async () => {
    await page.goto(`${api.baseUrl}/`);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page
      .locator('.stat', { hasText: 'Adapters' })
      .filter({ hasText: String(TOTAL) })
      .first()
      .waitFor();
    expect(await page.getByRole('link', { name: /\/docs/ }).getAttribute('href')).toBe('/docs');
    expect(await page.getByRole('link', { name: /\/metrics/ }).getAttribute('href')).toBe('/metrics');
    await page.getByText('sdnext-0').waitFor();
    shots.push(await saveScreenshot(page, 'dashboard'));
    await expectAccessible();
  });

  it('should search as you type and filter by a facet, with the state in the URL and the back button working', async () => {
    await page.goto(`${api.baseUrl}/library`);
    await total(TOTAL);
    shots.push(await saveScreenshot(page, 'library-grid'));
    await expectAccessible();

    await page.getByRole('searchbox', { name: 'Search adapters' }).fill('dragon');
    await page.waitForURL(/[?&]q=dragon/);
    await page.getByRole('listitem', { name: 'Glass Dragon' }).waitFor();
    // Glass Dragon is on the unfiltered first page too: wait until the list shown is the search's answer.
    await page.waitForFunction(`(() => {
      const names = [...document.querySelectorAll('[role=list][aria-label=Adapters] [role=listitem]')]
        .map((e) => e.getAttribute('aria-label') ?? '');
      return names.length >= 2 && names.every((n) => /dragon/i.test(n));
    })()`);
    const names = await page
      .locator('[role=list][aria-label=Adapters] [role=listitem]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
    expect(names.length).toBeGreaterThanOrEqual(2);
    expect(names.every((n) => /dragon/i.test(n))).toBe(true);

    await page.getByRole('checkbox', { name: /^SDXL 1\.0/ }).check();
    await page.waitForURL(/baseModel=SDXL\+1\.0/);
    await total(2);
    await page.getByRole('listitem', { name: 'Dragon Knight' }).waitFor();
    expect(await page.getByRole('listitem', { name: 'Elf Archer' }).count()).toBe(0);

    await page.goBack();
    await page.waitForURL((url) => !url.search.includes('baseModel'));
    expect(new URL(page.url()).searchParams.get('q')).toBe('dragon');
    // The URL changes before the page re-renders from it: wait for the box to clear, then check it stays clear.
    await page.getByRole('checkbox', { name: /^SDXL 1\.0/, checked: false }).waitFor();
    expect(await page.getByRole('checkbox', { name: /^SDXL 1\.0/ }).isChecked()).toBe(false);

    await page.goto(`${api.baseUrl}/library?tags=style&view=list`);
    await total(3);
    await page.getByRole('listitem', { name: 'Watercolor Style' }).waitFor();
    shots.push(await saveScreenshot(page, 'library-list'));
  });

  it('should filter by import warnings and take base-model aliases, saying when a base model is unknown', async () => {
    await page.goto(`${api.baseUrl}/library`);
    await total(TOTAL);
    await page.locator('label.tri-state', { hasText: 'Import warnings' }).locator('select').selectOption('true');
    await page.waitForURL(/[?&]hasWarnings=true/);
    await total(1);
    await page.goBack();
    await page.waitForURL((url) => !url.search.includes('hasWarnings'));
    await total(TOTAL);

    const sdxl = (await (await fetch(`${api.baseUrl}/api/v1/adapters?baseModel=SDXL%201.0&limit=1`)).json()) as {
      total: number;
    };
    expect(sdxl.total).toBeGreaterThan(0);
    await page.goto(`${api.baseUrl}/library?baseModel=sdxl`);
    await total(sdxl.total);
    expect(await page.getByTestId('library-warning').count()).toBe(0);

    await page.goto(`${api.baseUrl}/library?baseModel=sdxxl`);
    await total(0);
    await page.getByTestId('library-warning').filter({ hasText: '"sdxxl"' }).waitFor();
    await expectAccessible();
  });

  it('should open an adapter, show its duplicate, and keep edited trigger words after a reload', async () => {
    await page.goto(`${api.baseUrl}/library?q=knight`);
    await page.getByRole('link', { name: 'Dragon Knight' }).click();
    await page.waitForURL(/\/adapters\/[0-9a-f-]{36}$/);
    await page.getByRole('heading', { name: 'Dragon Knight', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'dragon-knight-copy' }).or(page.getByText(DUPLICATE_FILE)).first().waitFor();

    const words = page.getByLabel('Trigger words (comma-separated)');
    await words.fill('dragonknight, red armor');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Dragon Knight', level: 1 }).waitFor();
    expect(await page.getByLabel('Trigger words (comma-separated)').inputValue()).toBe('dragonknight, red armor');
    const row = page.getByRole('row', { name: /Trigger words/ });
    expect(await row.textContent()).toContain('you');
    shots.push(await saveScreenshot(page, 'adapter-detail'));
    await expectAccessible();
  });

  it('should show the API message beside the field at fault', async () => {
    await page.getByLabel('Preferred weight').fill('42');
    await page.getByRole('button', { name: 'Save' }).click();
    const error = page.locator('#edit-preferredWeight-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/preferredWeight/);
  });

  it('should compose two adapters and show their tokens, recomposing as a weight changes', async () => {
    await page.goto(`${api.baseUrl}/composer`);
    const search = page.getByRole('searchbox');
    await search.fill('dragon knight');
    await page.getByRole('button', { name: 'Add Dragon Knight' }).click();
    await search.fill('watercolor');
    await page.getByRole('button', { name: 'Add Watercolor Style' }).click();
    const tokens = page.getByTestId('composed-tokens').locator('li');
    await page.waitForFunction("document.querySelectorAll('[data-testid=composed-tokens] li').length === 2");
    const texts = await tokens.allTextContents();
    expect(texts.some((t) => t.startsWith('<lora:dragon-knight'))).toBe(true);
    expect(texts.some((t) => t.startsWith('<lora:watercolor'))).toBe(true);
    await page.getByLabel('Weight of Watercolor Style value').fill('0.6');
    await page
      .getByTestId('composed-prompt')
      .filter({ hasText: /<lora:watercolor:0\.6>/ })
      .waitFor();
    expect(await page.getByTestId('composed-prompt').textContent()).toContain('dragonknight');
    expect(page.url()).toContain('a=');
    shots.push(await saveScreenshot(page, 'composer'));
    await expectAccessible();
    await page.getByRole('button', { name: 'Send to studio' }).click();
    await page.waitForURL(/\/studio\?prompt=/);
    expect(await page.getByLabel('Prompt', { exact: true }).inputValue()).toContain('<lora:watercolor:0.6>');
  });

  it('should queue a generation with the backend options, follow its progress to 100 % and show the image', async () => {
    await page.getByRole('option', { name: 'Euler a' }).waitFor({ state: 'attached' });
    await page.getByLabel('Sampler').selectOption('Euler a');
    const row = await queueGenerationAndAwaitImage(page, 40);
    expect(await firstImageWidth(row)).toBeGreaterThan(0);
    shots.push(await saveScreenshot(page, 'studio'));
    await expectAccessible();
  });

  it('should cancel a running generation', async () => {
    sdnext.setStepMs(400);
    try {
      await page.getByLabel('Steps').fill('40');
      const previous = await page
        .getByRole('status')
        .filter({ hasText: /^Queued/ })
        .textContent();
      await page.getByRole('button', { name: 'Queue generation' }).click();
      const status = page
        .getByRole('status')
        .filter({ hasText: /^Queued/ })
        .filter({ hasNotText: previous ?? '' });
      await status.waitFor();
      const shortId = /Queued (\w{8})/.exec((await status.textContent()) ?? '')![1];
      const row = page.getByRole('listitem', { name: new RegExp(`^Generation ${shortId}`) });
      await row
        .getByTestId('progress-text')
        .filter({ hasText: /step [1-9]\d*\/40/ })
        .waitFor();
      await row.getByRole('button', { name: 'Cancel' }).click();
      await page.getByRole('listitem', { name: `Generation ${shortId} cancelled` }).waitFor();
    } finally {
      sdnext.setStepMs(30);
    }
  });

  it('should list generated images newest first, open one large and reuse its parameters', async () => {
    await page.goto(`${api.baseUrl}/history`);
    const first = page.getByRole('button', { name: /^Open image of/ }).first();
    await first.click();
    await page.waitForURL(/[?&]job=/);
    const dialog = page.getByRole('dialog', { name: 'Generated image' });
    await dialog.getByRole('img').waitFor();
    expect(await dialog.getByRole('link', { name: 'Download' }).getAttribute('href')).toMatch(
      /\/api\/v1\/generation\/jobs\/.+\/images\/0$/,
    );
    shots.push(await saveScreenshot(page, 'history-viewer'));
    await dialog.getByRole('button', { name: 'Close' }).click();
    await page.waitForURL((url) => !url.search.includes('job='));
    shots.push(await saveScreenshot(page, 'history'));
    await expectAccessible();
    await page.getByRole('link', { name: 'Reuse parameters' }).first().click();
    await page.waitForURL(/\/studio\?from=/);
    await page.getByLabel('Prompt', { exact: true }).filter({ hasText: 'watercolor' }).waitFor();
    expect(await page.getByLabel('Steps').inputValue()).toBe('40');
  });

  it('should start an import and watch it finish live, without a reload', async () => {
    await page.goto(`${api.baseUrl}/imports`);
    const runs = page.getByRole('list', { name: 'Import runs' }).getByRole('listitem', { name: /^Import / });
    await runs.first().waitFor();
    const before = await runs.count();
    await page.getByLabel('Force resync').check();
    await page.getByRole('button', { name: 'Start import' }).click();
    // Run items are the list's direct children (failures are nested lists); the newest is first. The import event
    // or the poll while a run is unfinished must turn it completed on the page as it is.
    const items = '[aria-label="Import runs"] > li';
    await page.waitForFunction(`document.querySelectorAll('${items}').length > ${before}`);
    await page.waitForFunction(
      `document.querySelector('${items}')?.getAttribute('aria-label')?.endsWith(' completed') === true`,
      undefined,
      { timeout: 15_000 },
    );
    const run = page.getByRole('listitem', { name: /^Import / }).first();
    expect(await run.textContent()).toContain(`seen ${TOTAL}`);
    shots.push(await saveScreenshot(page, 'imports'));
    await expectAccessible();
  });

  it('should create a delivery, rate it and mark it favorite', async () => {
    await page.goto(`${api.baseUrl}/deliveries?prompt=a%20castle`);
    await page.getByLabel('Backend').selectOption('sdnext');
    await page.getByLabel(/^Parameters/).fill('{ "steps": 4 }');
    await page.getByRole('button', { name: 'Create delivery' }).click();
    const created = await page
      .getByRole('status')
      .filter({ hasText: /^Queued/ })
      .textContent();
    const shortId = /Queued (\w{8})/.exec(created ?? '')![1];
    await page
      .getByRole('row', { name: /a castle/ })
      .first()
      .getByText('succeeded')
      .waitFor({ timeout: 30_000 });
    await page.getByLabel(`Rating of delivery ${shortId}`).selectOption('4');
    await page.getByRole('button', { name: `Favorite delivery ${shortId}` }).click();
    await page.getByRole('button', { name: `Favorite delivery ${shortId}`, pressed: true }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: `Favorite delivery ${shortId}`, pressed: true }).waitFor();
    expect(await page.getByLabel(`Rating of delivery ${shortId}`).inputValue()).toBe('4');
    shots.push(await saveScreenshot(page, 'deliveries'));
    await expectAccessible();
  });

  it("should offer the backend's own samplers and checkpoints", async () => {
    const res = await fetch(`${api.baseUrl}/api/v1/generation/backends/sdnext-0/options`);
    expect(res.status).toBe(200);
    const options = (await res.json()) as { samplers: string[]; checkpoints: { title: string }[] };
    expect(options.samplers).toContain('Euler a');
    expect(options.checkpoints.length).toBeGreaterThan(0);
    const unknown = await fetch(`${api.baseUrl}/api/v1/generation/backends/sdnext-9/options`);
    expect(unknown.status).toBe(404);
  });

  it('should work on a phone-sized screen', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const small = await phone.newPage();
    await small.goto(`${api.baseUrl}/library`);
    await small
      .getByTestId('library-total')
      .filter({ hasText: `${TOTAL} adapters` })
      .waitFor();
    const overflow = await small.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(1);
    shots.push(await saveScreenshot(small, 'library-phone'));
    await phone.close();
  });
});
