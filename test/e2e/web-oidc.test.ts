import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/processes.js';
import { STUDY_A } from '../support/api-harness.js';
import { JWKS_PATH, startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';
import { axeViolations, launchChromium, newContext, screenshot, settled, startWebStack, watchConsole, type WebStack } from '../support/web-harness.js';

// The web app's sign-in against a real OpenID provider (oidc-provider, its own login and
// consent pages): authorization code with PKCE in Chromium, and the API accepting the
// provider's access tokens from the page.
const CLIENT_ID = 'iar-web';
const AUDIENCE = 'imaging-access-review';
const PENDING_KEY = 'iar.oidcPending';
const TOKEN_KEY = 'iar.apiToken';

let issuer: OidcIssuer;
let stack: WebStack;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let browser: Browser;

beforeAll(async () => {
  // The issuer's port first: the API's CSP (connect-src) and /api/web-config name the issuer,
  // and the issuer registers the API's callback, known once the API listens.
  const port = await freePort();
  const issuerUrl = `http://127.0.0.1:${port}`;
  stack = await startWebStack({
    DEV_LOGIN: 'false',
    OIDC_ISSUER: issuerUrl,
    OIDC_JWKS_URL: `${issuerUrl}${JWKS_PATH}`,
    OIDC_AUDIENCE: AUDIENCE,
    OIDC_ROLES_CLAIM: 'groups',
    OIDC_WEB_CLIENT_ID: CLIENT_ID,
  });
  issuer = await startOidcIssuer({ port, webOrigin: stack.url, clientId: CLIENT_ID, audience: AUDIENCE, rolesClaim: 'groups' });
  chromium = await launchChromium();
  browser = chromium.browser;
});
afterAll(async () => {
  await chromium?.close();
  await stack?.close();
  await issuer?.close();
});

/** A fresh browser profile (no session at the issuer either) whose requests stay on this machine. */
async function freshPage(): Promise<Page> {
  const page = await (await newContext(browser)).newPage();
  // The provider's pages @import a web font; nothing may leave loopback in a test.
  await page.route(
    (url) => url.hostname !== '127.0.0.1',
    (route) => route.abort(),
  );
  return page;
}

/** From the app's sign-in page, through the issuer's login and consent pages, back to the app. */
async function signInAtIssuer(page: Page, username: string, screenshots?: string): Promise<void> {
  await page.goto(`${stack.url}/`);
  await page.getByRole('button', { name: 'Sign in with your organisation' }).click();
  await page.waitForURL((url) => url.origin === issuer.issuer);
  await page.getByPlaceholder('Enter any login').fill(username);
  await page.getByPlaceholder('and password').fill('any password');
  if (screenshots) await screenshot(page, `${screenshots}-issuer-login`);
  await page.getByRole('button', { name: 'Sign-in' }).click();
  // A fresh profile has granted nothing yet: the issuer asks for consent every time.
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((url) => url.origin === stack.url && url.pathname !== '/sign-in/callback');
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
}

describe('the web app signing in with OpenID Connect at a real issuer', () => {
  it('offers the issuer’s sign-in only, and brings a clinician back signed in with the issuer’s token, which the API accepts', async () => {
    const page = await freshPage();
    const problems = watchConsole(page);
    const issuerRequests: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).origin === issuer.issuer) issuerRequests.push(`${request.method()} ${new URL(request.url()).pathname}`);
    });

    await page.goto(`${stack.url}/`);
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Sign in with your organisation' }).waitFor();
    expect(await page.getByRole('button', { name: 'clin.alice' }).count(), 'no demo users').toBe(0);
    await screenshot(page, 'oidc-sign-in-en');

    await signInAtIssuer(page, 'clin.alice', 'oidc-clinician');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/requests');
    await page.getByRole('heading', { name: 'My requests', level: 1 }).waitFor();
    await page.getByText('Signed in as clin.alice').waitFor();
    // The code and the state left the address bar (and the history entry) on the callback.
    expect(new URL(page.url()).search).toBe('');
    // The page fetched discovery and exchanged the code itself (CORS at the issuer, CSP here).
    expect(issuerRequests).toContain('GET /.well-known/openid-configuration');
    expect(issuerRequests).toContain('POST /token');

    const storage = await page.evaluate(() => Object.fromEntries(Object.entries(sessionStorage)));
    expect(storage[PENDING_KEY], 'no PKCE verifier or state left behind').toBeUndefined();
    const token = storage[TOKEN_KEY];
    expect(typeof token).toBe('string');
    // The issuer's own JWT access token, for the API, with the claims the API maps.
    expect(claimsOf(token!)).toMatchObject({
      iss: issuer.issuer,
      aud: AUDIENCE,
      client_id: CLIENT_ID,
      preferred_username: 'clin.alice',
      groups: ['clinician'],
    });

    // The API accepts the token from the page: the list loads, and a submission is recorded
    // under her name in her department (from the API's directory, not the token).
    await settled(page);
    expect(await page.getByRole('alert').count(), 'no error shown').toBe(0);
    const justification = `OIDC browser test ${Date.now()}: follow-up of a wrist fracture`;
    await page.getByLabel('Study Instance UIDs').fill(STUDY_A);
    await page.getByLabel('Patient ID').fill('SYN-0001');
    await page.getByLabel('Purpose of use').selectOption('TREAT');
    await page.getByLabel('Justification').fill(justification);
    await page.getByLabel('Duration (minutes)').fill('60');
    await page.getByRole('button', { name: 'Request access' }).click();
    await page.getByText('Your request was sent for review.').waitFor();
    await page.getByRole('listitem').filter({ hasText: justification }).getByText('Pending review').waitFor();
    const recorded = await stack.api.db.accessRequest.findFirstOrThrow({ where: { justification }, select: { requester: true, departmentId: true } });
    expect(recorded).toEqual({ requester: 'clin.alice', departmentId: 'radiology' });

    await screenshot(page, 'oidc-clinician-requests-en');
    expect(await axeViolations(page), 'axe-core on the clinician’s page after OIDC sign-in').toEqual([]);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('refuses a callback whose state is not the one the page sent, and stays signed out', async () => {
    const page = await freshPage();
    const problems = watchConsole(page);
    // A sign-in under way: a verifier and a state are waiting in this tab.
    await page.goto(`${stack.url}/`);
    await page.getByRole('button', { name: 'Sign in with your organisation' }).click();
    await page.waitForURL((url) => url.origin === issuer.issuer);
    const tokenRequests: string[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(`${issuer.issuer}/token`)) tokenRequests.push(request.url());
    });

    await page.goto(`${stack.url}/sign-in/callback?code=x&state=wrong`);
    await page.getByRole('alert').filter({ hasText: 'Sign-in through your organisation did not complete.' }).waitFor();
    await page.getByRole('link', { name: 'Back to sign-in' }).waitFor();
    expect(new URL(page.url()).search).toBe('');
    const storage = await page.evaluate(() => Object.fromEntries(Object.entries(sessionStorage)));
    expect(storage[TOKEN_KEY]).toBeUndefined();
    // The attempt is spent: its verifier cannot serve a later, forged callback either.
    expect(storage[PENDING_KEY]).toBeUndefined();
    expect(tokenRequests, 'no code exchanged').toEqual([]);
    expect(await page.getByText(/Signed in as/).count()).toBe(0);
    await screenshot(page, 'oidc-callback-refused-en');

    // Nothing signed in behind the message: a page that needs a user sends back to sign-in.
    await page.goto(`${stack.url}/requests`);
    await expect.poll(() => new URL(page.url()).pathname).toBe('/sign-in');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('shows an auditor the auditor’s pages, and nothing of a clinician’s', async () => {
    const page = await freshPage();
    const problems = watchConsole(page);
    await signInAtIssuer(page, 'aud.frank');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/cases');
    await page.getByRole('heading', { name: 'Cases', level: 1 }).waitFor();
    await page.getByText('Signed in as aud.frank').waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Cases' }).waitFor();
    expect(await nav.getByRole('link', { name: 'My requests' }).count()).toBe(0);
    // The case search ran with the issuer's token and answered.
    await settled(page);
    expect(await page.getByRole('alert').count(), 'no error shown').toBe(0);
    await screenshot(page, 'oidc-auditor-cases-en');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('signs out back to the sign-in page, the token gone from the tab and refused by the API', async () => {
    const page = await freshPage();
    const problems = watchConsole(page);
    await signInAtIssuer(page, 'sec.grace');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/grants');
    await page.getByText('Signed in as sec.grace').waitFor();
    const token = (await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY))!;
    expect((await stack.api.call('GET', '/api/access-requests', { token })).status).toBe(200);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe('/sign-in');
    await page.getByRole('status').filter({ hasText: 'You have signed out.' }).waitFor();
    await page.getByRole('button', { name: 'Sign in with your organisation' }).waitFor();
    expect(await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY)).toBeNull();
    // The issuer's token, still unexpired, is refused by the API from now on.
    await expect.poll(async () => (await stack.api.call('GET', '/api/access-requests', { token })).status, { timeout: 10_000 }).toBe(401);
    await screenshot(page, 'oidc-signed-out-en');
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
