import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect, inject } from 'vitest';
import { ROOT } from '../../scripts/lib/ephemeral-servers.js';
import { freePort } from '../../scripts/lib/processes.js';
import { startApi, type ApiHarness } from './api-harness.js';
import { startGateway, type GatewayHarness } from './gateway-harness.js';

/** Debian's Chromium (apt-get install chromium); playwright-core downloads no browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots to look at after a run (git-ignored). */
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');

export interface WebStack {
  api: ApiHarness;
  gateway: GatewayHarness;
  /** Where a browser opens the web app: the API's own address. */
  url: string;
  close(): Promise<void>;
}

/**
 * The system as `npm start` wires it for a browser: the API serving web/dist (built in global
 * setup), told the gateway's address; the gateway answering CORS for the API's origin only.
 * `env` adds to the API's settings (an OIDC issuer, for instance).
 */
export async function startWebStack(env: Record<string, string> = {}): Promise<WebStack> {
  const buildError = inject('webBuildError');
  if (buildError) throw new Error(`web/dist could not be built in global setup: ${buildError}`);
  // The gateway's port first: the API's CSP and /api/web-config name it, and the gateway
  // needs the API's address (its token issuer and the web origin) to start.
  const gatewayPort = await freePort();
  const api = await startApi({ GATEWAY_PUBLIC_URL: `http://127.0.0.1:${gatewayPort}`, TEMPORAL_UI_URL: 'http://127.0.0.1:8233', ...env });
  const gateway = await startGateway(
    api,
    { dicomwebUrl: inject('pacsDicomwebUrl'), username: inject('pacsUsername'), password: inject('pacsPassword') },
    { webOrigins: [api.url], port: gatewayPort },
  );
  return {
    api,
    gateway,
    url: api.url,
    async close() {
      await gateway.close();
      await api.close();
    },
  };
}

/** Chromium as docs/platform notes say it runs here: headless, no sandbox, nothing fetched in the background. */
export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // No --user-data-dir: playwright gives every launch a fresh profile of its own, and removes it.
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}

/** A ward workstation's screen, in the given language and a time zone that is not the server's. */
export async function newContext(browser: Browser, locale: 'en' | 'zh-CN' = 'en'): Promise<BrowserContext> {
  return browser.newContext({ locale, timezoneId: locale === 'zh-CN' ? 'Asia/Shanghai' : 'Europe/London', viewport: { width: 1280, height: 800 } });
}

/**
 * What went wrong in a page: errors it logged (CSP refusals among them), uncaught exceptions,
 * and answers of 400 or more, with their address. A test asserts there are none.
 */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    // Chromium's "Failed to load resource" names no address; the response below does.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`);
  });
  return problems;
}

/** Until no part of the page says it is loading (the event stream keeps the network busy, so not "networkidle"). */
export async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() => document.querySelector('[role="status"].loading') === null);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** axe-core in the page: the serious and critical violations (WCAG 2.x A/AA rules), as readable lines. */
export async function axeViolations(page: Page): Promise<string[]> {
  const source = await import('axe-core').then((axe) => axe.default.source);
  // Through DevTools, not a <script>: the page's CSP (rightly) refuses inline scripts.
  await page.evaluate(source);
  const results = (await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<unknown> } }).axe;
    return axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
  })) as { violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] };
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')})`);
}

/**
 * The English messages a page in Chinese must not show: every English string of en.json that
 * zh-CN.json says differently, split at its placeholders, keeping fragments of two words or
 * more (a lone "ID" or "UID" is the same in both), and none the Chinese messages quote.
 */
export function englishOnlyFragments(): string[] {
  const leaves = (value: unknown, prefix = ''): [string, string][] =>
    typeof value === 'string'
      ? [[prefix, value]]
      : Object.entries(value as Record<string, unknown>).flatMap(([key, child]) => leaves(child, prefix ? `${prefix}.${key}` : key));
  const read = (name: string) => JSON.parse(readFileSync(path.join(ROOT, 'web', 'src', 'i18n', name), 'utf8'));
  const zh = new Map(leaves(read('zh-CN.json')));
  return (
    leaves(read('en.json'))
      .filter(([key, text]) => zh.get(key) !== text)
      .flatMap(([, text]) => text.split(/\{\{[^}]*\}\}/))
      .map((fragment) => fragment.trim().replace(/[.:,;()]+$/, ''))
      .filter((fragment) => /[A-Za-z]+\s+[A-Za-z]+/.test(fragment))
      // A technical term the Chinese text itself keeps, e.g. "检查实例 UID（Study Instance UID）".
      .filter((fragment) => ![...zh.values()].some((chinese) => chinese.includes(fragment)))
  );
}

/** Signs in through the page as a demo user (dev login lists them as buttons). */
export async function signIn(page: Page, appUrl: string, username: string): Promise<void> {
  await page.goto(`${appUrl}/`);
  await page.getByRole('button', { name: username, exact: true }).click();
  // Signed in once the page has left the sign-in page: on a loaded machine this takes longer
  // than the second a test's own check of the address waits.
  await page.waitForURL((url) => url.pathname !== '/sign-in', { timeout: 15_000 });
}

/** No serious or critical axe-core violation on the page as it stands. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  expect(await axeViolations(page), `axe-core on ${what}`).toEqual([]);
}

/** A page in Chinese shows none of the English-only messages. */
export async function expectNoEnglish(page: Page, what: string): Promise<void> {
  const text = await page.locator('body').innerText();
  expect(
    englishOnlyFragments().filter((fragment) => text.includes(fragment)),
    `English left on ${what} in Chinese`,
  ).toEqual([]);
}
