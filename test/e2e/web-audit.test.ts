import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyEvidenceBundle, type SignedEvidenceBundle } from '../../audit/evidence/evidence-bundle.js';
import { ensureClinician, STUDY_A, submission } from '../support/api-harness.js';
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

// The auditors' and security officers' tools in the browser (replay, evidence download, who
// accessed), the clinician's study lookup by accession number, and sign-out ending the session
// on the server. Setup a person would not do goes through the API; the rest through the pages.
let stack: WebStack;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let browser: Browser;

/** A clinician only this file submits for: her accesses are the only ones under her name. */
const REQUESTER = 'clin.webaudit';

beforeAll(async () => {
  stack = await startWebStack();
  chromium = await launchChromium();
  browser = chromium.browser;
  await ensureClinician(stack.api, REQUESTER, 'Wei (clinician, web audit tests)');
});
afterAll(async () => {
  await chromium?.close();
  await stack?.close();
});

const signIn = (page: Page, username: string) => signInAs(page, stack.url, username);

/**
 * A case with an image seen through the gateway and a revocation, set up through the API and
 * the gateway as the clinician's viewer would: its id.
 */
async function revokedCaseWithAnAccess(justification: string): Promise<string> {
  const api = stack.api;
  const submitted = await api.call('POST', '/api/access-requests', { token: await api.login(REQUESTER), body: submission({ justification }) });
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
  const id = submitted.body.id as string;
  for (const reviewer of ['sup.carol', 'priv.dave']) {
    const review = await api.call('POST', `/api/access-requests/${id}/reviews`, { token: await api.login(reviewer), body: { decision: 'approve' } });
    expect(review.status).toBe(201);
  }
  const status = async () => (await api.call('GET', `/api/access-requests/${id}`, { token: await api.login('aud.frank') })).body.status;
  // Run from beforeAll, where expect.poll is not available.
  await vi.waitFor(async () => expect(await status()).toBe('ACTIVE'), { timeout: 20_000, interval: 200 });
  const token = (await api.call('POST', `/api/access-requests/${id}/tokens`, { token: await api.login(REQUESTER) })).body.access_token as string;
  const seen = await fetch(`${stack.gateway.url}/dicom-web/studies/${STUDY_A}/series`, { headers: { authorization: `Bearer ${token}`, origin: stack.url } });
  expect(seen.status).toBe(200);
  await stack.gateway.journal.flush();
  const revoked = await api.call('POST', `/api/access-requests/${id}/revoke`, {
    token: await api.login('sec.grace'),
    body: { reason: 'Browser test: audit tools' },
  });
  expect(revoked.status).toBe(200);
  await api.temporal.workflow.getHandle(id).result();
  return id;
}

describe('the auditors’ and security officers’ tools in the browser', () => {
  let caseId: string;

  beforeAll(async () => {
    caseId = await revokedCaseWithAnAccess(`Browser audit ${randomUUID().slice(0, 8)}: replay and evidence`);
  });

  it('an auditor replays a case, downloads its evidence bundle (which verifies), and sees who accessed the patient’s images', async () => {
    const page = await (await newContext(browser)).newPage();
    const problems = watchConsole(page);
    await signIn(page, 'aud.frank');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/cases');
    await page.goto(`${stack.url}/cases/${caseId}`);
    await page.getByRole('heading', { name: `Case ${caseId}`, level: 1 }).waitFor();
    await settled(page);

    await page.getByRole('button', { name: 'Replay the workflow history' }).click();
    const replay = page.getByRole('region', { name: 'Replay' });
    await replay.getByText('Reproduced: today’s workflow code makes exactly the recorded decisions.').waitFor({ timeout: 60_000 });
    await expect.poll(() => replay.innerText()).toMatch(/recorded outcome: Revoked/);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download evidence bundle' }).click()]);
    expect(download.suggestedFilename()).toBe(`${caseId}.evidence.json`);
    const bundle = JSON.parse(readFileSync((await download.path())!, 'utf8')) as SignedEvidenceBundle;
    const keys = (await stack.api.call('GET', '/.well-known/audit-keys.json')).body;
    expect(await verifyEvidenceBundle(bundle, keys)).toEqual({ ok: true, problems: [] });
    await page.getByText(`Saved as ${caseId}.evidence.json.`).waitFor();
    await expectAccessible(page, 'a case with its replay result');
    await screenshot(page, 'auditor-case-replay-en');

    // From the case to everyone who looked at this patient's images.
    await page.getByRole('link', { name: 'Who accessed this patient’s images' }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe('/image-accesses');
    // The patient went in the page's state, not its address.
    expect(new URL(page.url()).search).toBe('');
    const table = page.getByRole('table');
    const row = table.getByRole('row').filter({ hasText: REQUESTER });
    await row.first().waitFor({ timeout: 20_000 });
    await expect.poll(() => row.first().innerText()).toMatch(/Served/);
    expect(
      await row
        .first()
        .getByRole('link', { name: caseId.slice(0, 11) })
        .count(),
    ).toBe(1);
    await settled(page);
    await expectAccessible(page, 'who accessed a patient’s images');
    await screenshot(page, 'auditor-who-accessed-en');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('shows the replay and the access log in Chinese with no English left', async () => {
    const page = await (await newContext(browser, 'zh-CN')).newPage();
    const problems = watchConsole(page);
    await signIn(page, 'aud.frank');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/cases');
    await page.goto(`${stack.url}/cases/${caseId}`);
    await page.getByRole('button', { name: '重放工作流历史' }).click();
    await page.getByText('已复现：当前的工作流代码做出的决定与记录完全一致。').waitFor({ timeout: 60_000 });
    await settled(page);
    await expectNoEnglish(page, 'a case with its replay result');
    await expectAccessible(page, 'a case with its replay result in Chinese');
    await screenshot(page, 'auditor-case-replay-zh-CN');

    await page.getByRole('link', { name: '谁访问过该患者的影像' }).click();
    await page.getByRole('table').getByRole('row').filter({ hasText: REQUESTER }).first().waitFor({ timeout: 20_000 });
    await settled(page);
    await expectNoEnglish(page, 'who accessed');
    await screenshot(page, 'auditor-who-accessed-zh-CN');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('a security officer looks up who accessed a study in a time window, and is told when the window is backwards', async () => {
    const page = await (await newContext(browser)).newPage();
    const problems = watchConsole(page);
    await signIn(page, 'sec.grace');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/grants');
    await page.getByRole('navigation').getByRole('link', { name: 'Who accessed' }).click();
    const form = page.getByRole('form', { name: 'Access log search' });
    await form.getByLabel('Study', { exact: true }).check();
    await form.getByLabel('Study Instance UID').fill(STUDY_A);
    await form.getByLabel('From').fill('2020-01-01T00:00');
    await form.getByRole('button', { name: 'Show accesses' }).click();
    const row = page.getByRole('table').getByRole('row').filter({ hasText: REQUESTER });
    await row.first().waitFor({ timeout: 20_000 });
    // No case link for a security officer: cases are the auditors'.
    expect(await row.first().getByRole('link').count()).toBe(0);
    await settled(page);
    await expectAccessible(page, 'who accessed a study, as a security officer');
    await screenshot(page, 'security-who-accessed-en');

    await form.getByLabel('Until').fill('2019-01-01T00:00');
    await form.getByRole('button', { name: 'Show accesses' }).click();
    await page.getByRole('alert').getByText('Check the study UID or patient ID, and that the window does not end before it starts.').waitFor();
    expect(problems).toEqual(['400 GET /api/image-accesses']);
    await page.context().close();
  });

  it('keeps saying which grant was revoked after it leaves the active grants', async () => {
    const justification = `Browser audit ${randomUUID().slice(0, 8)}: revoked from the grants page`;
    const submitted = await stack.api.call('POST', '/api/access-requests', { token: await stack.api.login(REQUESTER), body: submission({ justification }) });
    const id = submitted.body.id as string;
    for (const reviewer of ['sup.carol', 'priv.dave']) {
      await stack.api.call('POST', `/api/access-requests/${id}/reviews`, { token: await stack.api.login(reviewer), body: { decision: 'approve' } });
    }
    const page = await (await newContext(browser)).newPage();
    await signIn(page, 'sec.grace');
    const grant = page.getByRole('listitem').filter({ hasText: justification });
    await grant.waitFor({ timeout: 20_000 });
    await grant.getByLabel('Reason for revoking').fill('Browser test: the message stays');
    await grant.getByRole('button', { name: 'Revoke', exact: true }).click();
    await grant.waitFor({ state: 'detached', timeout: 20_000 });
    const said = page.getByRole('status').filter({ hasText: `The grant of ${REQUESTER} to patient SYN-0001 was revoked` });
    await said.waitFor();
    await settled(page);
    expect(await said.count()).toBe(1);
    await page.context().close();
  });
});

describe('the viewer’s window presets', () => {
  it('renders a CT with the preset chosen, sent through the gateway as DICOMweb’s window', async () => {
    const justification = `Browser audit ${randomUUID().slice(0, 8)}: window presets`;
    const api = stack.api;
    const submitted = await api.call('POST', '/api/access-requests', { token: await api.login('clin.alice'), body: submission({ justification }) });
    const id = submitted.body.id as string;
    for (const reviewer of ['sup.carol', 'priv.dave']) {
      await api.call('POST', `/api/access-requests/${id}/reviews`, { token: await api.login(reviewer), body: { decision: 'approve' } });
    }
    const page = await (await newContext(browser)).newPage();
    const problems = watchConsole(page);
    const windows: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname.endsWith('/rendered')) windows.push(url.searchParams.get('window') ?? 'none');
    });
    await signIn(page, 'clin.alice');
    const mine = page.getByRole('listitem').filter({ hasText: justification });
    await mine.getByRole('link', { name: 'Open study' }).click({ timeout: 20_000 });
    const image = page.getByRole('img', { name: /watermarked by the gateway/ }).first();
    await image.waitFor({ timeout: 30_000 });
    const pixels = async () =>
      image.evaluate(async (img) => {
        const element = img as HTMLImageElement;
        await element.decode();
        const canvas = document.createElement('canvas');
        canvas.width = element.naturalWidth;
        canvas.height = element.naturalHeight;
        const context = canvas.getContext('2d')!;
        context.drawImage(element, 0, 0);
        const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
        let sum = 0;
        for (let i = 0; i < data.length; i += 4) sum += data[i]!;
        return { src: element.src, mean: sum / (data.length / 4) };
      });
    await expect.poll(() => windows).toContain('40,400,linear');
    const softTissue = await pixels();

    await page.getByLabel('Window').selectOption({ label: 'Lung (C -600 / W 1500)' });
    await expect.poll(async () => (await pixels()).src, { timeout: 15_000 }).not.toBe(softTissue.src);
    const lung = await pixels();
    expect(windows).toContain('-600,1500,linear');
    // The lung window lifts air and lung out of black: the same slice is clearly brighter.
    expect(lung.mean).toBeGreaterThan(softTissue.mean + 20);
    await settled(page);
    await expectAccessible(page, 'the viewer with a window preset');
    await screenshot(page, 'clinician-viewer-lung-window-en');
    expect(problems).toEqual([]);
    await page.context().close();
  });
});

describe('the clinician’s study lookup, and signing out', () => {
  it('finds a study by accession number for the patient given, adds it, and the request is confirmed by the PACS', async () => {
    const page = await (await newContext(browser)).newPage();
    const problems = watchConsole(page);
    await signIn(page, 'clin.alice');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/requests');
    const form = page.getByRole('form', { name: 'New request' });
    // Without a patient the lookup says what it needs and asks nothing.
    await form.getByLabel('Or find it by accession number').fill('ACC10001');
    await form.getByRole('button', { name: 'Look up' }).click();
    await form.getByText('Enter the patient ID first: the lookup finds only that patient’s studies.').waitFor();

    await form.getByLabel('Patient ID').fill('SYN-0001');
    // Enter in the lookup field looks up; it does not submit the request.
    await form.getByLabel('Or find it by accession number').press('Enter');
    const found = form.getByRole('list', { name: 'Studies found' });
    await found.getByText(STUDY_A).waitFor();
    await found.getByRole('button', { name: 'Add this study' }).click();
    await expect.poll(() => form.getByLabel('Study Instance UIDs').inputValue()).toBe(STUDY_A);
    expect(await found.getByRole('button', { name: 'Added' }).isDisabled()).toBe(true);
    await expectAccessible(page, 'the request form with a lookup result');
    await screenshot(page, 'clinician-lookup-en');

    // Another patient's accession number finds nothing, and names nobody.
    await form.getByLabel('Or find it by accession number').fill('ACC10003');
    await form.getByRole('button', { name: 'Look up' }).click();
    await form.getByText('The PACS files no study under this accession number for this patient.').waitFor();

    const justification = `Browser audit ${randomUUID().slice(0, 8)}: found by accession number`;
    await form.getByLabel('Justification').fill(justification);
    await form.getByRole('button', { name: 'Request access' }).click();
    await page.getByRole('status').filter({ hasText: 'Your request was sent for review.' }).waitFor();
    const recorded = await stack.api.db.accessRequest.findFirstOrThrow({ where: { justification } });
    expect(recorded.studyInstanceUids).toEqual([STUDY_A]);
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('signing out ends the session on the server: the token the tab held is refused afterwards', async () => {
    const page = await (await newContext(browser)).newPage();
    await signIn(page, 'aud.frank');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/cases');
    const token = (await page.evaluate(() => sessionStorage.getItem('iar.apiToken')))!;
    expect((await stack.api.call('GET', '/api/cases', { token })).status).toBe(200);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You have signed out.').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('iar.apiToken'))).toBeNull();
    await expect.poll(async () => (await stack.api.call('GET', '/api/cases', { token })).status, { timeout: 10_000 }).toBe(401);
    await page.context().close();
  });
});
