import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { AppProcess, freePort } from './support/app-process.js';
import { launchChromium, saveScreenshot, seriousA11yViolations } from './support/browser.js';
import { tempDir } from './support/test-services.js';
import { WEB_CORPUS, writeWebCorpus } from './support/web-corpus.js';

jest.setTimeout(60_000);

const VIEWER = 'viewer-key-0123456789abcdef';
const EDITOR = 'editor-key-0123456789abcdef';
const ADMIN = 'admin-key-0123456789abcdefgh';
const TOTAL = WEB_CORPUS.length + 1;

async function importAll(base: string): Promise<void> {
  const headers = { 'content-type': 'application/json', 'x-api-key': ADMIN };
  const start = await fetch(`${base}/api/v1/imports`, { method: 'POST', headers, body: JSON.stringify({}) });
  expect(start.status).toBe(201);
  const { id } = (await start.json()) as { id: string };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const run = (await (await fetch(`${base}/api/v1/imports/${id}`, { headers })).json()) as { status: string };
    if (run.status === 'completed') return;
    if (run.status === 'failed' || Date.now() > deadline) throw new Error(`import ${id} ended ${run.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('Web UI sign-in (API keys configured)', () => {
  const dir = tempDir('web-sign-in');
  let api: AppProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const shots: string[] = [];

  const expectAccessible = async () => expect(await seriousA11yViolations(page)).toEqual([]);
  const signIn = async (key: string) => {
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  const signedInAs = (role: string) => page.getByTestId('session-role').filter({ hasText: `Signed in as ${role}` });

  beforeAll(async () => {
    const root = `${dir.path}/loras`;
    await writeWebCorpus(root);
    const port = await freePort();
    api = new AppProcess(
      'api',
      {
        DATA_DIR: `${dir.path}/data`,
        PORT: String(port),
        HOST: '127.0.0.1',
        LORA_ROOTS: root,
        API_KEYS: `${VIEWER}:viewer,${EDITOR}:editor,${ADMIN}:admin`,
      },
      port,
    );
    api.start();
    await api.waitReady();
    await importAll(api.baseUrl);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await api?.stop();
    dir.remove();
    if (shots.length > 0) console.log(`screenshots:\n${shots.join('\n')}`);
  });

  it('should send a browser without a session to the sign-in page, and show the API message for a wrong key', async () => {
    await page.goto(`${api.baseUrl}/library?q=dragon`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(new URL(page.url()).searchParams.get('next')).toBe('/library?q=dragon');
    shots.push(await saveScreenshot(page, 'sign-in'));
    await expectAccessible();

    await signIn('not-a-key-of-this-server');
    const error = page.locator('#api-key-error');
    await error.waitFor();
    expect(await error.textContent()).toBe('This API key is not valid');
    expect(await page.getByLabel('API key').getAttribute('aria-invalid')).toBe('true');
    expect((await context.cookies()).some((c) => c.name === 'lm_session')).toBe(false);
    await expectAccessible();
  });

  it('should sign in with a key, come back to the page asked for, show the role, and load previews with the cookie', async () => {
    await signIn(EDITOR);
    await page.waitForURL(/\/library\?q=dragon$/);
    await signedInAs('editor').waitFor();
    const cookie = (await context.cookies()).find((c) => c.name === 'lm_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(cookie?.value).not.toContain(EDITOR);

    await page.goto(`${api.baseUrl}/library`);
    await page
      .getByTestId('library-total')
      .filter({ hasText: `${TOTAL} adapters` })
      .waitFor();
    const preview = page.getByRole('img', { name: 'Preview of Dragon Knight' }).first();
    await preview.scrollIntoViewIfNeeded();
    await page.waitForFunction(
      `(() => { const img = document.querySelector('img[alt="Preview of Dragon Knight"]'); return img?.complete && img.naturalWidth > 0; })()`,
    );
    // The same address without the cookie is refused: the image loaded because the browser sent the session.
    const src = await preview.getAttribute('src');
    // Cards load the 256 px thumbnail of the preview.
    expect(src).toMatch(/^\/api\/v1\/adapters\/[0-9a-f-]{36}\/preview\?size=256$/);
    expect((await fetch(`${api.baseUrl}${src}`)).status).toBe(401);
    await expectAccessible();
  });

  it('should return to sign-in with a message when the session has ended, then back to the page', async () => {
    await page.goto(`${api.baseUrl}/library`);
    await signedInAs('editor').waitFor();
    // An expired cookie is dropped by the browser (Max-Age); the next request then answers 401.
    await context.clearCookies();
    await page.getByRole('link', { name: 'Deliveries' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Your session has ended' }).waitFor();
    expect(new URL(page.url()).searchParams.get('next')).toBe('/deliveries');
    await signIn(EDITOR);
    await page.waitForURL(/\/deliveries$/);
    await page.getByRole('heading', { name: 'Deliveries', level: 1 }).waitFor();
    await signedInAs('editor').waitFor();
  });

  it('should sign out to the sign-in page, after which pages need a sign-in again', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'You have signed out.' }).waitFor();
    expect((await context.cookies()).some((c) => c.name === 'lm_session')).toBe(false);
    await page.goto(`${api.baseUrl}/composer`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/sign-in');
  });

  it('should show a viewer its edit controls disabled, and report the refusal of a forced edit beside Save', async () => {
    await page.goto(`${api.baseUrl}/library?q=knight`);
    await signIn(VIEWER);
    await signedInAs('viewer').waitFor();
    const card = page.getByRole('listitem', { name: 'Dragon Knight' });
    expect(await card.getByRole('button', { name: 'Favorite Dragon Knight' }).isDisabled()).toBe(true);

    await card.getByRole('link', { name: 'Dragon Knight' }).click();
    await page.getByRole('heading', { name: 'Dragon Knight', level: 1 }).waitFor();
    const words = page.getByLabel('Trigger words (comma-separated)');
    const before = await words.inputValue();
    expect(await words.isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Delete record' }).isDisabled()).toBe(true);
    await page.getByText('Signed in as viewer: editing needs the editor role.').waitFor();

    // Forced: the controls are enabled behind the page's back; the server still refuses and the page says so.
    await page.evaluate(`document.querySelector('.edit-form fieldset').disabled = false`);
    await words.fill('forced, by a viewer');
    await page.getByRole('button', { name: 'Save' }).click();
    const refusal = page.locator('#edit-error');
    await refusal.waitFor();
    expect(await refusal.textContent()).toBe('This action needs the editor role');
    await page.reload();
    await page.getByRole('heading', { name: 'Dragon Knight', level: 1 }).waitFor();
    expect(await page.getByLabel('Trigger words (comma-separated)').inputValue()).toBe(before);
    shots.push(await saveScreenshot(page, 'adapter-detail-viewer'));
    await expectAccessible();

    await page.getByRole('link', { name: 'Studio' }).click();
    await page.getByText('Signed in as viewer: queueing a generation needs the editor role.').waitFor();
    expect(await page.getByRole('button', { name: 'Queue generation' }).isDisabled()).toBe(true);
    await page.getByRole('link', { name: 'Imports' }).click();
    await page.getByText('Signed in as viewer: starting an import needs the admin role.').waitFor();
    expect(await page.getByRole('button', { name: 'Start import' }).isDisabled()).toBe(true);
  });

  it('should let an admin session start an import and see it finish live over the session-authenticated socket', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await signIn(ADMIN);
    await signedInAs('admin').waitFor();
    await page.getByRole('link', { name: 'Imports' }).click();
    const runs = page.getByRole('list', { name: 'Import runs' }).getByRole('listitem', { name: /^Import / });
    await runs.first().waitFor();
    const before = await runs.count();
    await page.getByRole('button', { name: 'Start import' }).click();
    const items = '[aria-label="Import runs"] > li';
    await page.waitForFunction(`document.querySelectorAll('${items}').length > ${before}`);
    await page.waitForFunction(
      `document.querySelector('${items}')?.getAttribute('aria-label')?.endsWith(' completed') === true`,
      undefined,
      { timeout: 15_000 },
    );
    expect(await runs.first().textContent()).toContain(`seen ${TOTAL}`);
  });
});

describe('Web UI sign-in: a session that runs out', () => {
  const dir = tempDir('web-session-expiry');
  let api: AppProcess;
  let browser: Browser;

  beforeAll(async () => {
    const port = await freePort();
    api = new AppProcess(
      'api',
      {
        DATA_DIR: dir.path,
        PORT: String(port),
        HOST: '127.0.0.1',
        API_KEYS: `${EDITOR}:editor`,
        SESSION_TTL_HOURS: '0.001', // 3.6 s
      },
      port,
    );
    api.start();
    await api.waitReady();
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await api?.stop();
    dir.remove();
  });

  it('should return to sign-in by itself when the session expires, saying so', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${api.baseUrl}/history`);
    await page.getByLabel('API key').fill(EDITOR);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('session-role').filter({ hasText: 'Signed in as editor' }).waitFor();
    const signedInAt = Date.now();
    await page.getByRole('status').filter({ hasText: 'Your session has ended' }).waitFor({ timeout: 15_000 });
    expect(Date.now() - signedInAt).toBeGreaterThan(2_000);
    expect(new URL(page.url()).searchParams.get('next')).toBe('/history');
    // The server agrees: the cookie no longer opens anything.
    expect(await page.evaluate<number>(`fetch('/api/v1/adapters').then((r) => r.status)`)).toBe(401);
  });
});
