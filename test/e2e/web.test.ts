import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, STUDY_A, submission } from '../support/api-harness.js';
import {
  englishOnlyFragments,
  launchChromium,
  newContext,
  screenshot,
  settled,
  startWebStack,
  watchConsole,
  type WebStack,
  signIn as signInAs,
  expectAccessible,
} from '../support/web-harness.js';

// The web app in Debian's Chromium, against a real API, gateway, worker and PACS. Pages are
// found by role and label, as a person using a screen reader finds them.
let stack: WebStack;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let browser: Browser;

beforeAll(async () => {
  stack = await startWebStack();
  chromium = await launchChromium();
  browser = chromium.browser;
});
afterAll(async () => {
  await chromium?.close();
  await stack?.close();
});

const signIn = (page: Page, username: string) => signInAs(page, stack.url, username);

describe('the web app, served by the API', () => {
  it('serves the page at / and at client routes with a strict CSP, never in place of the API', async () => {
    const home = await fetch(`${stack.url}/`);
    expect(home.status).toBe(200);
    expect(home.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = home.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain(`connect-src 'self' ${stack.gateway.url}`);
    expect(home.headers.get('referrer-policy')).toBe('no-referrer');
    expect(home.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await home.text();
    // Vite's output only: no inline script the CSP would refuse.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);

    const clientRoute = await fetch(`${stack.url}/requests/some-id/view`, { headers: { accept: 'text/html' } });
    expect(clientRoute.status).toBe(200);
    expect(await clientRoute.text()).toBe(html);
    // The API's own paths keep their answers.
    expect((await fetch(`${stack.url}/api/nothing-here`, { headers: { accept: 'text/html' } })).status).toBe(401);
    expect((await fetch(`${stack.url}/auth/nothing-here`, { headers: { accept: 'text/html' } })).headers.get('content-type')).toMatch(/problem\+json/);
    expect((await fetch(`${stack.url}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${stack.url}/healthz`)).headers.get('content-type')).toMatch(/json/);

    const config = await stack.api.call('GET', '/api/web-config');
    expect(config.status).toBe(200);
    expect(config.body).toEqual({
      gatewayUrl: stack.gateway.url,
      temporalUiUrl: 'http://127.0.0.1:8233',
      auth: 'dev-login',
      languages: ['en', 'zh-CN'],
      breakGlassMaxMinutes: 60,
    });
  });

  it('tells the page how to sign in with OpenID Connect when an issuer is configured, and lets it reach the issuer', async () => {
    const oidc = await startApi({
      DEV_LOGIN: 'false',
      OIDC_ISSUER: 'http://127.0.0.1:9/realms/iar',
      OIDC_JWKS_URL: 'http://127.0.0.1:9/realms/iar/jwks',
      OIDC_AUDIENCE: 'imaging-access-review',
      OIDC_ROLES_CLAIM: 'groups',
      OIDC_WEB_CLIENT_ID: 'iar-web',
    });
    try {
      const config = await oidc.call('GET', '/api/web-config');
      expect(config.body).toMatchObject({
        auth: 'oidc',
        oidcIssuer: 'http://127.0.0.1:9/realms/iar',
        oidcClientId: 'iar-web',
        oidcScope: 'openid profile',
        oidcRolesClaim: 'groups',
        oidcUsernameClaim: 'preferred_username',
      });
      expect(config.headers.get('content-security-policy')).toContain("connect-src 'self' http://127.0.0.1:9;");
    } finally {
      await oidc.close();
    }
  });

  it('lets the gateway answer the web origin, and no other, from a browser', async () => {
    const preflight = (origin: string, headers = 'authorization') =>
      fetch(`${stack.gateway.url}/dicom-web/studies`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': headers },
      });
    const ours = await preflight(stack.url);
    expect(ours.status).toBe(204);
    expect(ours.headers.get('access-control-allow-origin')).toBe(stack.url);
    expect(ours.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect(ours.headers.get('access-control-allow-credentials')).toBeNull();
    const theirs = await preflight('http://evil.example');
    expect(theirs.status).toBe(403);
    expect(theirs.headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight(stack.url, 'authorization, x-anything')).status).toBe(403);
    // A refusal is readable by the page too (so it can say why), and by it only.
    const refused = await fetch(`${stack.gateway.url}/dicom-web/studies`, { headers: { origin: stack.url } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe(stack.url);
    const elsewhere = await fetch(`${stack.gateway.url}/dicom-web/studies`, { headers: { origin: 'http://evil.example' } });
    expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('a clinician requests, two reviewers approve from their queues, and the request turns ACTIVE on her page without a reload', async () => {
    const justification = `Browser test ${randomUUID().slice(0, 8)}: follow-up of a wrist fracture`;
    const alice = await (await newContext(browser)).newPage();
    const aliceProblems = watchConsole(alice);
    await signIn(alice, 'clin.alice');
    await expect.poll(() => new URL(alice.url()).pathname).toBe('/requests');
    await alice.getByRole('heading', { name: 'My requests', level: 1 }).waitFor();
    await expectAccessible(alice, 'the clinician’s requests page');

    await alice.getByLabel('Study Instance UIDs').fill(STUDY_A);
    await alice.getByLabel('Patient ID').fill('SYN-0001');
    await alice.getByLabel('Purpose of use').selectOption('TREAT');
    await alice.getByLabel('Justification').fill(justification);
    await alice.getByLabel('Duration (minutes)').fill('60');
    await alice.getByRole('button', { name: 'Request access' }).click();
    await alice.getByText('Your request was sent for review.').waitFor();
    const mine = alice.getByRole('listitem').filter({ hasText: justification });
    await mine.getByText('Pending review').waitFor();
    await screenshot(alice, 'clinician-requests-en');

    for (const reviewer of ['sup.carol', 'priv.dave']) {
      const page = await (await newContext(browser)).newPage();
      const problems = watchConsole(page);
      await signIn(page, reviewer);
      await expect.poll(() => new URL(page.url()).pathname).toBe('/reviews');
      const item = page.getByRole('listitem').filter({ hasText: justification });
      await item.waitFor();
      await expectAccessible(page, `${reviewer}’s review queue`);
      if (reviewer === 'sup.carol') await screenshot(page, 'reviewer-queue-en');
      await item.getByRole('button', { name: 'Approve' }).click();
      await page.getByRole('status').filter({ hasText: 'clin.alice' }).waitFor();
      expect(problems).toEqual([]);
      await page.context().close();
    }

    // No reload: the event stream told the page, and it fetched the request afresh.
    await mine.getByText('Active', { exact: true }).waitFor({ timeout: 20_000 });
    await mine.getByRole('link', { name: 'Open study' }).waitFor();
    await screenshot(alice, 'clinician-active-en');
    await expectAccessible(alice, 'the clinician’s page with an active grant');

    // The viewer: a PACS token obtained by the page, a watermarked rendering fetched from the
    // gateway across origins (its CORS, the page's CSP connect-src and img-src blob:).
    await mine.getByRole('link', { name: 'Open study' }).click();
    const image = alice.getByRole('img', { name: /watermarked by the gateway/ }).first();
    await image.waitFor({ timeout: 30_000 });
    await expect
      .poll(() => image.evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth), { timeout: 15_000 })
      .toBeGreaterThan(0);
    await screenshot(alice, 'clinician-viewer-en');
    await expectAccessible(alice, 'the viewer');

    // Revoked elsewhere (a security officer, through the API): the viewer stops and says why, without a reload.
    const id = (await stack.api.db.accessRequest.findFirstOrThrow({ where: { justification }, select: { id: true } })).id;
    const revoked = await stack.api.call('POST', `/api/access-requests/${id}/revoke`, {
      token: await stack.api.login('sec.grace'),
      body: { reason: 'Browser test: revoked while the viewer is open' },
    });
    expect(revoked.status).toBe(200);
    await alice.getByRole('alert').filter({ hasText: 'The viewer has stopped' }).waitFor({ timeout: 20_000 });
    await screenshot(alice, 'clinician-viewer-revoked-en');
    expect(aliceProblems).toEqual([]);
    await alice.context().close();
  });

  it('shows each role’s main page in English and in Simplified Chinese with no English left, accessibly', async () => {
    // Something pending, so that the queue and the clinician's list show an item, not only their empty state.
    const pending = await stack.api.call('POST', '/api/access-requests', {
      token: await stack.api.login('clin.alice'),
      body: submission({ justification: 'Browser test: a request left pending for the pictures' }),
    });
    expect(pending.status).toBe(201);
    const english = englishOnlyFragments();
    expect(english.length).toBeGreaterThan(50);
    for (const [username, route, name] of [
      ['clin.alice', '/requests', 'clinician-requests'],
      ['sup.carol', '/reviews', 'reviewer-queue'],
      ['aud.frank', '/cases', 'auditor-cases'],
      ['sec.grace', '/grants', 'security-grants'],
    ] as const) {
      for (const locale of ['zh-CN', 'en'] as const) {
        const page = await (await newContext(browser, locale)).newPage();
        const problems = watchConsole(page);
        await signIn(page, username);
        await expect.poll(() => new URL(page.url()).pathname).toBe(route);
        await page.getByRole('heading', { level: 1 }).waitFor();
        // Loading states settle before the picture and the check.
        await settled(page);
        expect(await page.getByRole('alert').count(), 'no error shown').toBe(0);
        expect(await page.evaluate(() => document.documentElement.lang)).toBe(locale);
        if (locale === 'zh-CN') {
          const text = await page.locator('body').innerText();
          expect(
            english.filter((fragment) => text.includes(fragment)),
            `English left on ${route} in Chinese`,
          ).toEqual([]);
        }
        await expectAccessible(page, `${route} in ${locale}`);
        await screenshot(page, `${name}-${locale}`);
        expect(problems).toEqual([]);
        await page.context().close();
      }
    }
  });
});
