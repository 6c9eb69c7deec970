import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/lib/ephemeral-servers.js';
import { ensureClinician, submission } from '../support/api-harness.js';
import {
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

// Each role's own work in the browser: a reviewer refused by the engine, an auditor following a
// case from end to end, a security officer revoking a grant. Setup the test does not look at
// goes through the API; what a person does goes through the pages, found by role and label.
let stack: WebStack;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let browser: Browser;

/** A clinician only this file submits for (API only: the sign-in page lists the demo users). */
const REQUESTER = 'clin.webroles';

beforeAll(async () => {
  stack = await startWebStack();
  chromium = await launchChromium();
  browser = chromium.browser;
  await ensureClinician(stack.api, REQUESTER, 'Wen (clinician, web role tests)');
});
afterAll(async () => {
  await chromium?.close();
  await stack?.close();
});

type Messages = Record<string, unknown>;
const messages = (name: string): Messages => JSON.parse(readFileSync(path.join(ROOT, 'web', 'src', 'i18n', name), 'utf8')) as Messages;
const EN = messages('en.json');
const ZH = messages('zh-CN.json');
/** A message by its dotted key, as the page's message file has it. */
function message(from: Messages, key: string): string {
  const value = key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], from);
  if (typeof value !== 'string') throw new Error(`no message ${key}`);
  return value;
}

const signIn = (page: Page, username: string) => signInAs(page, stack.url, username);

/** A request submitted through the API; its id. */
async function submit(requester: string, justification: string): Promise<string> {
  const answer = await stack.api.call('POST', '/api/access-requests', {
    token: await stack.api.login(requester),
    body: submission({ justification }),
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body.id as string;
}

async function approve(id: string, reviewer: string): Promise<void> {
  const answer = await stack.api.call('POST', `/api/access-requests/${id}/reviews`, {
    token: await stack.api.login(reviewer),
    body: { decision: 'approve' },
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
}

async function statusOf(id: string): Promise<string> {
  const answer = await stack.api.call('GET', `/api/access-requests/${id}`, { token: await stack.api.login('aud.frank') });
  return answer.body.status as string;
}

/** A request approved by a supervisor and a privacy officer, and active. */
async function activeRequest(requester: string, justification: string): Promise<string> {
  const id = await submit(requester, justification);
  await approve(id, 'sup.carol');
  await approve(id, 'priv.dave');
  await expect.poll(() => statusOf(id), { timeout: 20_000 }).toBe('ACTIVE');
  return id;
}

describe('each role’s work in the browser', () => {
  it('shows the engine’s refusal of a second approval from a satisfied role as a sentence, in English and in Chinese', async () => {
    const justification = `Browser roles ${randomUUID().slice(0, 8)}: second supervisor approval`;
    const id = await submit(REQUESTER, justification);
    // sup.carol approves first; sup.erin, also a supervisor, then tries from her queue.
    await approve(id, 'sup.carol');

    for (const [locale, text] of [
      ['en', EN],
      ['zh-CN', ZH],
    ] as const) {
      const page = await (await newContext(browser, locale)).newPage();
      const problems = watchConsole(page);
      await signIn(page, 'sup.erin');
      await expect.poll(() => new URL(page.url()).pathname).toBe('/reviews');
      const item = page.getByRole('listitem').filter({ hasText: justification });
      await item.waitFor();
      await settled(page);
      await item.getByRole('button', { name: message(text, 'reviews.approve'), exact: true }).click();

      const refusal = item.getByRole('alert');
      await refusal.waitFor();
      const sentence = message(text, 'problems.ROLE_ALREADY_APPROVED');
      await expect.poll(() => refusal.innerText()).toContain(sentence);
      const shown = await page.locator('body').innerText();
      expect(shown).not.toContain('ROLE_ALREADY_APPROVED');
      expect(shown).not.toMatch(/\b409\b/);
      await expectAccessible(page, `the review queue with a refusal in ${locale}`);
      await screenshot(page, `reviewer-refused-${locale}`);
      // The refusal is the only failed answer the page saw.
      expect(problems).toEqual([`409 POST /api/access-requests/${id}/reviews`]);
      await page.context().close();
    }
    // Nothing changed: still pending, with carol's approval only.
    const after = await stack.api.call('GET', `/api/access-requests/${id}`, { token: await stack.api.login('aud.frank') });
    expect(after.body.status).toBe('PENDING_REVIEW');
    expect(after.body.reviews.map((r: { reviewer: string }) => r.reviewer)).toEqual(['sup.carol']);
  });

  it('an auditor finds a case by patient and requester and reads every step on its timeline', async () => {
    const justification = `Browser roles ${randomUUID().slice(0, 8)}: audited from end to end`;
    const id = await activeRequest('clin.alice', justification);

    // The clinician opens an image: a token, then an access through the gateway.
    const alice = await (await newContext(browser)).newPage();
    await signIn(alice, 'clin.alice');
    await expect.poll(() => new URL(alice.url()).pathname).toBe('/requests');
    const mine = alice.getByRole('listitem').filter({ hasText: justification });
    await mine.getByRole('link', { name: 'Open study' }).click();
    const image = alice.getByRole('img', { name: /watermarked by the gateway/ }).first();
    await image.waitFor({ timeout: 30_000 });
    await expect
      .poll(() => image.evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth), { timeout: 15_000 })
      .toBeGreaterThan(0);
    await alice.context().close();

    const revoked = await stack.api.call('POST', `/api/access-requests/${id}/revoke`, {
      token: await stack.api.login('sec.grace'),
      body: { reason: 'Browser test: revoked for the audit trail' },
    });
    expect(revoked.status).toBe(200);

    const page = await (await newContext(browser)).newPage();
    const problems = watchConsole(page);
    await signIn(page, 'aud.frank');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/cases');
    await page.getByRole('heading', { name: 'Cases', level: 1 }).waitFor();
    const filters = page.getByRole('form', { name: 'Search filters' });
    await filters.getByLabel('Patient ID').fill('SYN-0001');
    await filters.getByLabel('Requester').fill('clin.alice');
    await filters.getByRole('button', { name: 'Search', exact: true }).click();
    const link = page.getByRole('link', { name: `Case ${id.slice(0, 8)}` });
    await link.waitFor();
    const row = page.getByRole('row').filter({ has: link });
    await row.getByText('Revoked', { exact: true }).waitFor();
    await settled(page);
    await expectAccessible(page, 'the case search with results');

    await link.click();
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/cases/${id}`);
    const timeline = page.getByRole('region', { name: 'Timeline' });
    const entries = timeline.getByRole('listitem');
    const entry = (kind: string) => entries.filter({ hasText: kind });
    await entry('Grant revoked').first().waitFor({ timeout: 20_000 });
    await settled(page);
    // Every step, in the order it happened: the submission, both reviews (the second one made the
    // grant active), the token, the gateway access, the revocation.
    const steps: [string, ...string[]][] = [
      ['Request submitted', 'by clin.alice'],
      ['Review recorded', 'by sup.carol', 'decision approve', 'outcome Pending review'],
      ['Review recorded', 'by priv.dave', 'decision approve', 'outcome Active'],
      ['Image token issued', 'by clin.alice'],
      ['Image access served', 'Gateway', 'by clin.alice', 'status 200', 'wado:rendered'],
      ['Grant revoked', 'by sec.grace', 'reason Browser test: revoked for the audit trail'],
    ];
    const texts = (await entries.allInnerTexts()).map((text) => text.replace(/\s+/g, ' '));
    const positions = steps.map((step) => texts.findIndex((text) => step.every((part) => text.includes(part))));
    expect(
      steps.filter((_, i) => positions[i] === -1),
      'steps missing from the timeline',
    ).toEqual([]);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    await expectAccessible(page, 'a case’s timeline');
    await screenshot(page, 'auditor-timeline-en');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('a security officer revokes an active grant with a reason, and the clinician sees it revoked', async () => {
    const justification = `Browser roles ${randomUUID().slice(0, 8)}: revoked by security`;
    const reason = 'Browser test: incident response, access withdrawn';
    const id = await activeRequest('clin.alice', justification);

    const alice = await (await newContext(browser)).newPage();
    const aliceProblems = watchConsole(alice);
    await signIn(alice, 'clin.alice');
    await expect.poll(() => new URL(alice.url()).pathname).toBe('/requests');
    const mine = alice.getByRole('listitem').filter({ hasText: justification });
    await mine.getByText('Active', { exact: true }).waitFor();

    const page = await (await newContext(browser)).newPage();
    const problems = watchConsole(page);
    await signIn(page, 'sec.grace');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/grants');
    await page.getByRole('heading', { name: 'Active grants', level: 1 }).waitFor();
    const grant = page.getByRole('listitem').filter({ hasText: justification });
    await grant.waitFor();
    await settled(page);
    await expectAccessible(page, 'the active grants');
    await grant.getByLabel('Reason for revoking').fill(reason);
    await grant.getByRole('button', { name: 'Revoke', exact: true }).click();
    // Revoked: it leaves the active grants.
    await expect.poll(() => statusOf(id), { timeout: 20_000 }).toBe('REVOKED');
    await grant.waitFor({ state: 'detached', timeout: 20_000 });
    await settled(page);
    expect(await page.getByRole('alert').count(), 'no error shown').toBe(0);
    await expectAccessible(page, 'the active grants after a revocation');
    expect(problems).toEqual([]);
    await page.context().close();

    const revocation = await stack.api.db.revocation.findFirstOrThrow({ where: { accessRequestId: id } });
    expect(revocation).toMatchObject({ revokedBy: 'sec.grace', reason });

    // The clinician's page says so without a reload.
    await mine.getByText('Revoked', { exact: true }).waitFor({ timeout: 20_000 });
    await expect.poll(() => mine.getByRole('link', { name: 'Open study' }).count()).toBe(0);
    await expectAccessible(alice, 'the clinician’s page with a revoked grant');
    await screenshot(alice, 'clinician-revoked-en');
    expect(aliceProblems).toEqual([]);
    await alice.context().close();
  });
});
