import { randomUUID } from 'node:crypto';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessRequestService } from '../../api/access-request-service.js';
import { startCheckpointSigningWorker, type CheckpointSigningWorker } from '../../api/checkpoint-signing-worker.js';
import { FreezeService } from '../../api/freeze-service.js';
import { createLogger } from '../../config/logger.js';
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
  expectNoEnglish,
} from '../support/web-harness.js';

// The freezes page: a security officer freezes, two people lift, in both languages. The test
// database is shared with every file running alongside, so every freeze here names one user
// only this file uses; never a patient, a study, a department, and never everything.
let stack: WebStack;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let browser: Browser;
let signing: CheckpointSigningWorker;

/** The clinician this file freezes (API only: the sign-in page lists the demo users). */
const FROZEN = 'clin.webfreeze';
const TAG = randomUUID().slice(0, 8);

beforeAll(async () => {
  stack = await startWebStack();
  chromium = await launchChromium();
  browser = chromium.browser;
  await ensureClinician(stack.api, FROZEN, 'Fei (clinician, web freeze tests)');
  // As an API process does in production: this one serves a freeze's revocations (each a message it signs).
  const { api } = stack;
  const deps = { config: api.config, db: api.db, temporal: api.temporal, keys: api.keys, log: createLogger('web-freeze-test', 'silent') };
  const freezes = new FreezeService({ ...deps, requests: new AccessRequestService(deps) });
  signing = await startCheckpointSigningWorker({ temporal: api.config.temporal, db: api.db, keys: api.keys, freezes });
});
afterAll(async () => {
  await signing?.stop();
  await chromium?.close();
  await stack?.close();
});

const signIn = (page: Page, username: string) => signInAs(page, stack.url, username);

async function openFreezes(page: Page, link = 'Freezes'): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: link }).click();
  await expect.poll(() => new URL(page.url()).pathname).toBe('/freezes');
}

/** A freeze's card on the page, found by its reason (other files' freezes are listed too). */
function freezeItem(page: Page, reason: string): Locator {
  return page.getByRole('listitem').filter({ hasText: reason });
}

/** The freeze with this reason, as the API lists it. */
async function freezeByReason(reason: string): Promise<{ id: string; status: string; liftedBy: string[] }> {
  const list = await stack.api.call('GET', '/api/freezes', { token: await stack.api.login('aud.frank') });
  const found = (list.body.items as { id: string; reason: string; status: string; liftedBy: string[] }[]).find((f) => f.reason === reason);
  if (!found) throw new Error(`no freeze with reason ${reason}`);
  return found;
}

/** A request of the frozen clinician, approved by a supervisor and a privacy officer; its id. */
async function activeGrantOfFrozenUser(): Promise<string> {
  const api = stack.api;
  const submitted = await api.call('POST', '/api/access-requests', {
    token: await api.login(FROZEN),
    body: submission({ justification: `Web freeze ${TAG}: a grant the freeze revokes` }),
  });
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
  const id = submitted.body.id as string;
  for (const reviewer of ['sup.carol', 'priv.dave']) {
    const review = await api.call('POST', `/api/access-requests/${id}/reviews`, { token: await api.login(reviewer), body: { decision: 'approve' } });
    expect(review.status, JSON.stringify(review.body)).toBe(201);
  }
  await expect
    .poll(async () => (await api.call('GET', `/api/access-requests/${id}`, { token: await api.login('aud.frank') })).body.status, { timeout: 20_000 })
    .toBe('ACTIVE');
  return id;
}

describe('freezing a user, and lifting the freeze with two people', () => {
  const reason = `Web freeze ${TAG}: account shared outside the ward`;

  it('a security officer freezes a user from the page: it is listed as active, the grant is revoked, and the user’s requests are refused', async () => {
    const grant = await activeGrantOfFrozenUser();
    const page = await (await newContext(browser)).newPage();
    const problems = watchConsole(page);
    await signIn(page, 'sec.grace');
    // Security officers still start on the active grants.
    await expect.poll(() => new URL(page.url()).pathname).toBe('/grants');
    await openFreezes(page);
    await page.getByRole('heading', { name: 'Freezes', level: 1 }).waitFor();

    const form = page.getByRole('form', { name: 'Freeze access' });
    // The value's label follows the scope.
    await form.getByLabel('Patient ID').waitFor();
    await form.getByLabel('What to freeze').selectOption({ label: 'User' });
    expect(await form.getByLabel('Patient ID').count()).toBe(0);
    await form.getByLabel('Username').fill(FROZEN);
    await form.getByLabel('Reason', { exact: true }).fill(reason);
    await form.getByRole('button', { name: 'Freeze access' }).click();
    await form
      .getByRole('status')
      .filter({ hasText: `Frozen: User ${FROZEN}.` })
      .waitFor();

    const item = freezeItem(page, reason);
    await item.getByRole('heading', { name: `User ${FROZEN}` }).waitFor();
    await item.getByText('Active', { exact: true }).waitFor();
    expect(await item.innerText()).toMatch(/Frozen by\s+sec\.grace,/);
    // The grant is revoked by the freeze's workflow; the page asks again on its own.
    await expect.poll(() => item.innerText(), { timeout: 30_000 }).toMatch(/Grants revoked\s+1 grant\b/);
    expect((await stack.api.db.accessRequest.findUniqueOrThrow({ where: { id: grant } })).status).toBe('REVOKED');
    await settled(page);
    await expectAccessible(page, 'the freezes page with an active freeze');
    await screenshot(page, 'security-freezes-en');
    expect(problems).toEqual([]);
    await page.context().close();

    // The frozen user's new request is refused by the API…
    const refused = await stack.api.call('POST', '/api/access-requests', {
      token: await stack.api.login(FROZEN),
      body: submission({ justification: `Web freeze ${TAG}: refused by the API` }),
    });
    expect(refused.status).toBe(423);
    expect(refused.body).toMatchObject({ reason: 'ACCESS_FROZEN' });

    // …and the request form says so in a sentence.
    const clinician = await (await newContext(browser)).newPage();
    const clinicianProblems = watchConsole(clinician);
    await clinician.goto(`${stack.url}/sign-in`);
    const token = await stack.api.login(FROZEN);
    await clinician.evaluate((value) => sessionStorage.setItem('iar.apiToken', value), token);
    await clinician.goto(`${stack.url}/requests`);
    const request = clinician.getByRole('form', { name: 'New request' });
    await request.getByLabel('Patient ID').fill('SYN-0001');
    await request.getByLabel('Study Instance UIDs').fill(submission().studyInstanceUids[0]!);
    await request.getByLabel('Justification').fill(`Web freeze ${TAG}: refused in the page`);
    await request.getByRole('button', { name: 'Request access' }).click();
    await request
      .getByRole('alert')
      .getByText('A security officer has frozen this access; nothing was changed. Two people must lift the freeze first.')
      .waitFor();
    expect(await request.getByRole('alert').innerText()).not.toContain('ACCESS_FROZEN');
    expect(clinicianProblems).toEqual(['423 POST /api/access-requests']);
    await clinician.context().close();
  });

  it('the asker cannot confirm her own lift; a privacy officer confirms it, and both pages show it lifted', async () => {
    const { id } = await freezeByReason(reason);
    const grace = await (await newContext(browser)).newPage();
    const graceProblems = watchConsole(grace);
    await signIn(grace, 'sec.grace');
    await openFreezes(grace);
    const item = freezeItem(grace, reason);
    await item.getByLabel('Why lift this freeze').fill('Investigation closed: the account was secured');
    await item.getByRole('button', { name: 'Ask to lift' }).click();
    await item.getByRole('status').filter({ hasText: 'You asked for this freeze to be lifted. A second person must confirm it.' }).waitFor();
    await expect.poll(() => item.innerText()).toMatch(/Lift requested by\s+sec\.grace,/);
    expect(await item.innerText()).toContain('Investigation closed: the account was secured');

    // The server refuses her own confirmation; the page says why in a sentence.
    await item.getByRole('button', { name: 'Confirm lift' }).click();
    const refusal = item.getByRole('alert');
    await refusal.getByText('You asked for this lift yourself: a second person must confirm or refuse it.').waitFor();
    expect(await refusal.innerText()).not.toContain('SELF_REVIEW');
    await item.getByText('Active', { exact: true }).waitFor();

    const dave = await (await newContext(browser)).newPage();
    const daveProblems = watchConsole(dave);
    await signIn(dave, 'priv.dave');
    await expect.poll(() => new URL(dave.url()).pathname).toBe('/reviews');
    await openFreezes(dave);
    // Privacy officers lift; only security officers freeze.
    expect(await dave.getByRole('form', { name: 'Freeze access' }).count()).toBe(0);
    const daves = freezeItem(dave, reason);
    await daves.getByLabel('Comment (optional)').fill('Confirmed with the ward manager');
    await daves.getByRole('button', { name: 'Confirm lift' }).click();
    await daves.getByRole('status').filter({ hasText: 'You confirmed the lift: the freeze is lifted.' }).waitFor();
    await daves.getByText('Lifted', { exact: true }).waitFor();
    expect(await daves.innerText()).toMatch(/Lifted by\s+sec\.grace and priv\.dave,/);
    // Lifted: nothing more to ask or decide.
    expect(await daves.getByRole('button').count()).toBe(0);
    await settled(dave);
    await expectAccessible(dave, 'the freezes page after a lift');
    await screenshot(dave, 'privacy-freeze-lift-en');
    expect(daveProblems).toEqual([]);

    // The asker's page, left open, follows without a reload.
    await item.getByText('Lifted', { exact: true }).waitFor({ timeout: 15_000 });
    expect(await item.innerText()).toMatch(/Lifted by\s+sec\.grace and priv\.dave,/);
    expect(graceProblems).toEqual([`403 POST /api/freezes/${id}/lift-decision`]);
    expect(await freezeByReason(reason)).toMatchObject({ status: 'LIFTED', liftedBy: ['sec.grace', 'priv.dave'] });

    // Lifted, the user may ask for access again.
    const again = await stack.api.call('POST', '/api/access-requests', {
      token: await stack.api.login(FROZEN),
      body: submission({ justification: `Web freeze ${TAG}: accepted after the lift` }),
    });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    // Withdrawn at once: it is in no one's review queue when other files look.
    const withdrawn = await stack.api.call('POST', `/api/access-requests/${again.body.id}/cancel`, { token: await stack.api.login(FROZEN) });
    expect(withdrawn.status, JSON.stringify(withdrawn.body)).toBe(200);
    await dave.context().close();
    await grace.context().close();
  });

  it('an auditor reads the freezes and can change nothing', async () => {
    const page = await (await newContext(browser)).newPage();
    const problems = watchConsole(page);
    await signIn(page, 'aud.frank');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/cases');
    await openFreezes(page);
    const item = freezeItem(page, reason);
    await item.getByText('Lifted', { exact: true }).waitFor();
    expect(await page.getByRole('form', { name: 'Freeze access' }).count()).toBe(0);
    expect(await item.getByRole('button').count()).toBe(0);
    expect(problems).toEqual([]);
    await page.context().close();
  });
});

describe('the freezes page in Chinese', () => {
  it('shows a freeze and its pending lift with no English left, confirms everything before freezing it, and lifts from the page', async () => {
    const reason = `网页冻结测试 ${TAG}：账号异常`;
    const api = stack.api;
    const frozen = await api.call('POST', '/api/freezes', { token: await api.login('sec.grace'), body: { scope: 'user', value: FROZEN, reason } });
    expect(frozen.status, JSON.stringify(frozen.body)).toBe(201);
    const asked = await api.call('POST', `/api/freezes/${frozen.body.id}/lift-request`, {
      token: await api.login('priv.dave'),
      body: { reason: '调查已结束' },
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(200);

    const page = await (await newContext(browser, 'zh-CN')).newPage();
    const problems = watchConsole(page);
    await signIn(page, 'sec.grace');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/grants');
    await openFreezes(page, '访问冻结');
    const item = freezeItem(page, reason);
    await item.getByRole('heading', { name: `用户 ${FROZEN}` }).waitFor();
    await item.getByText('生效中', { exact: true }).waitFor();
    expect(await item.innerText()).toMatch(/申请解除人\s+priv\.dave，/);

    // Freezing everything asks for a confirmation first. Looked at only: never sent from here.
    const form = page.getByRole('form', { name: '冻结访问' });
    await form.getByLabel('冻结对象').selectOption({ label: '全部访问' });
    const confirm = form.getByLabel('我了解这将停止全部访问');
    await confirm.waitFor();
    expect(await confirm.isChecked()).toBe(false);
    expect(await confirm.evaluate((input) => (input as HTMLInputElement).required)).toBe(true);
    expect(await form.getByRole('button', { name: '冻结全部访问' }).count()).toBe(1);
    expect(await form.getByLabel('患者编号').count()).toBe(0);
    await settled(page);
    await expectNoEnglish(page, 'the freezes page');
    await expectAccessible(page, 'the freezes page in Chinese, with the confirmation for everything');
    await screenshot(page, 'security-freezes-zh-CN');
    await form.getByLabel('冻结对象').selectOption({ label: '用户' });
    expect(await confirm.count()).toBe(0);

    // Asked for by a privacy officer, confirmed by a security officer: lifted.
    await item.getByRole('button', { name: '确认解除' }).click();
    await item.getByRole('status').filter({ hasText: '您已确认解除：冻结已解除。' }).waitFor();
    await item.getByText('已解除', { exact: true }).waitFor();
    expect(await item.innerText()).toMatch(/解除人\s+priv\.dave和sec\.grace，/);
    await expectNoEnglish(page, 'the freezes page after a lift');
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
