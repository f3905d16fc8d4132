import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, resolve } from 'node:path';
import { type Browser, type BrowserContextOptions, chromium, type Locator, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it): nothing downloads a browser of its own. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const UP = resolve(import.meta.dirname, '..', '..');
const ROOT = basename(UP) === 'dist' ? resolve(UP, '..') : UP;
export const SCREENSHOT_DIR = join(ROOT, 'test-artifacts', 'screenshots');

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: apt-get install -y chromium`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** A page in a new context of the browser (viewport 1280 × 900 unless given), waiting `timeoutMs` for each step. */
export async function openPage(
  browser: Browser,
  options: BrowserContextOptions = {},
  timeoutMs = 30_000,
): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options })).newPage();
  page.setDefaultTimeout(timeoutMs);
  return page;
}

/** Saves a full-page screenshot as a test artifact and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

const axeSource = (): string => readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core (WCAG 2 A/AA rules) in the page; returns the serious and critical violations. */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: axeSource() });
  // Runs in the page (a string: this file is compiled without the DOM library).
  const violations = await page.evaluate<
    { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[]
  >(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }).then((r) => r.violations)`,
  );
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => JSON.stringify(n.target)),
    }));
}

/**
 * In the studio page: queues a generation of `steps` steps, follows its row in the queue list through a step count
 * and 100 %, and waits for its first image. Returns the row for further checks.
 */
export async function queueGenerationAndAwaitImage(page: Page, steps: number): Promise<Locator> {
  await page.getByLabel('Steps').fill(String(steps));
  await page.getByRole('button', { name: 'Queue generation' }).click();
  const queued = await page
    .getByRole('status')
    .filter({ hasText: /^Queued/ })
    .textContent();
  const shortId = /Queued (\w{8})/.exec(queued ?? '')![1];
  const row = page.getByRole('listitem', { name: new RegExp(`^Generation ${shortId}`) });
  await row
    .getByTestId('progress-text')
    .filter({ hasText: new RegExp(`step [1-9]\\d*/${steps}`) })
    .waitFor();
  await row
    .getByTestId('progress-text')
    .filter({ hasText: /^100 %/ })
    .waitFor();
  await row.getByRole('img', { name: /Result 1 of generation/ }).waitFor();
  return row;
}

/** The natural width of the first image in `scope` (0 when it did not decode). */
export const firstImageWidth = (scope: Locator): Promise<number> =>
  scope
    .getByRole('img')
    .first()
    .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
