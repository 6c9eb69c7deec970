import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STUDY_A, STUDY_B } from '../support/api-harness.js';
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

// Break the glass in the browser: a clinician opens emergency access from her page and sees
// the images at once; reviewers judge it afterwards from their queue, with what was seen. The
// test database is shared with the files running alongside and a clinician may break the glass
// only a few times a day (BREAK_GLASS_PER_DAY, 3): clin.alice, whom other browser tests use but
// never for this, breaks it twice here, and nothing is frozen.
let stack: WebStack;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let browser: Browser;

const TAG = randomUUID().slice(0, 8);
const JUSTIFICATION = `Break-glass browser test ${TAG}: unconscious after a fall, prior imaging needed now`;
const JUSTIFICATION_ZH = `破窗网页测试 ${TAG}：急诊患者昏迷，需要查看既往影像`;

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

function englishIn(text: string): string[] {
  return englishOnlyFragments().filter((fragment) => text.includes(fragment));
}

async function retroStatusOf(justification: string): Promise<string | null> {
  return (await stack.api.db.accessRequest.findFirstOrThrow({ where: { justification } })).retroStatus;
}

describe('break the glass in the browser', () => {
  /** The clinician's page, left open while the reviewers judge. */
  let alice: Page;
  let aliceProblems: string[];
  let id: string;

  it('a clinician opens emergency access from her page: active at once, marked break-glass, and the study opens at once', async () => {
    alice = await (await newContext(browser)).newPage();
    aliceProblems = watchConsole(alice);
    await signIn(alice, 'clin.alice');
    await expect.poll(() => new URL(alice.url()).pathname).toBe('/requests');

    // Apart from the ordinary request: its own warning, and the form only after a deliberate click.
    const emergency = alice.getByRole('region', { name: 'Emergency access (break the glass)' });
    await emergency.getByText(/Access is granted at once, without review beforehand, for at most 60 minutes\. It is recorded as break-glass/).waitFor();
    expect(await alice.getByRole('form', { name: 'Emergency access (break the glass)' }).count()).toBe(0);
    await emergency.getByRole('button', { name: 'Open the emergency access form' }).click();
    const form = alice.getByRole('form', { name: 'Emergency access (break the glass)' });
    await form.waitFor();
    // No purpose to choose: break-glass is its own.
    expect(await form.getByLabel('Purpose of use').count()).toBe(0);
    expect(await form.getByLabel('Duration (minutes)').inputValue()).toBe('60');

    await form.getByLabel('Patient ID').fill('SYN-0001');
    await form.getByLabel('Or find it by accession number').fill('ACC10001');
    await form.getByRole('button', { name: 'Look up' }).click();
    await form.getByRole('list', { name: 'Studies found' }).getByRole('button', { name: 'Add this study' }).click();
    await expect.poll(() => form.getByLabel('Study Instance UIDs').inputValue()).toBe(STUDY_A);
    await form.getByLabel('Justification').fill(JUSTIFICATION);
    await expectAccessible(alice, 'the emergency access form, filled in');
    await screenshot(alice, 'clinician-break-glass-form-en');
    await form.getByRole('button', { name: 'Open access now (break the glass)' }).click();
    await emergency.getByRole('status').filter({ hasText: 'Emergency access is open for patient SYN-0001 until' }).waitFor();
    // Closed again after use: a second emergency is a second deliberate step.
    expect(await alice.getByRole('form', { name: 'Emergency access (break the glass)' }).count()).toBe(0);

    const recorded = await stack.api.db.accessRequest.findFirstOrThrow({ where: { justification: JUSTIFICATION } });
    expect(recorded).toMatchObject({ requester: 'clin.alice', kind: 'break-glass', status: 'ACTIVE', purposeOfUse: 'BTG', retroStatus: 'PENDING' });
    id = recorded.id;

    // Active at once, in words: break-glass, and where its review afterwards stands.
    const mine = alice.getByRole('listitem').filter({ hasText: JUSTIFICATION });
    await mine.getByText('Active', { exact: true }).waitFor();
    await mine.getByText('Break-glass', { exact: true }).waitFor();
    const said = await mine.innerText();
    expect(said).toMatch(/Review afterwards:\s+Pending \(due by /);
    expect(said).toContain('Break the glass (emergency)');
    expect(said).toMatch(/Time left: /);
    await settled(alice);
    await expectAccessible(alice, 'the clinician’s page with a break-glass open');
    await screenshot(alice, 'clinician-break-glass-en');

    // The viewer at once: a token, the series through the gateway, a watermarked image.
    await mine.getByRole('link', { name: 'Open study' }).click();
    await alice.getByText('Break-glass access: every image you open is recorded, and two reviewers examine this access afterwards.').waitFor();
    const image = alice.getByRole('img', { name: /watermarked by the gateway/ }).first();
    await image.waitFor({ timeout: 30_000 });
    await expect
      .poll(() => image.evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth), { timeout: 15_000 })
      .toBeGreaterThan(0);
    await expectAccessible(alice, 'the viewer under break-glass');
    await alice.getByRole('link', { name: 'Back to my requests' }).click();
    await mine.waitFor();
    expect(aliceProblems).toEqual([]);
  });

  it('reviewers judge it afterwards from their queue, with what was seen; the engine’s refusals are sentences; two approvals make it justified', async () => {
    await stack.gateway.journal.flush();

    const carol = await (await newContext(browser)).newPage();
    const carolProblems = watchConsole(carol);
    await signIn(carol, 'sup.carol');
    await expect.poll(() => new URL(carol.url()).pathname).toBe('/reviews');
    const section = carol.getByRole('region', { name: 'Break-glass to review afterwards' });
    const item = section.getByRole('listitem').filter({ hasText: JUSTIFICATION });
    await item.waitFor({ timeout: 20_000 });
    await item.getByText('Break-glass', { exact: true }).waitFor();
    expect(await item.innerText()).toMatch(/Review by .+\(in (23|24) hours\)\./);
    // Not in the ordinary queue: nothing waits for approval there.
    expect(await carol.getByRole('region', { name: 'Requests awaiting review' }).getByRole('listitem').filter({ hasText: JUSTIFICATION }).count()).toBe(0);

    // What was seen: the viewer's accesses through the gateway, served.
    const seen = item.getByRole('region', { name: 'What was seen' });
    const served = seen.getByRole('row').filter({ hasText: 'Served' });
    await served.first().waitFor({ timeout: 20_000 });
    const table = await seen.innerText();
    expect(table).toContain('qido:series');
    expect(table).toContain(STUDY_A);
    expect(table).toMatch(/instance \d/);
    const rows = await stack.api.call('GET', `/api/access-requests/${id}/image-accesses`, { token: await stack.api.login('sup.carol') });
    expect(rows.body.items.every((row: { purposeOfUse: string }) => row.purposeOfUse === 'BTG')).toBe(true);

    // Not justified needs a reason: the server says so, and the page says it as a sentence.
    await item.getByRole('button', { name: 'Not justified' }).click();
    await item.getByRole('button', { name: 'Not justified' }).click();
    await item.getByRole('alert').getByText('A denial must say why: write a reason.').waitFor();
    expect(await item.getByLabel('Why it was not justified (required)').getAttribute('aria-invalid')).toBe('true');
    expect(await item.innerText()).not.toContain('COMMENT_REQUIRED');
    await settled(carol);
    await expectAccessible(carol, 'the break-glass to review afterwards, with a refusal');
    await screenshot(carol, 'reviewer-break-glass-en');

    // Thought better of: justified.
    await item.getByRole('button', { name: 'Cancel' }).click();
    await item.getByRole('button', { name: 'Justified', exact: true }).click();
    await section
      .getByRole('status')
      .filter({ hasText: 'You judged the break-glass of clin.alice for patient SYN-0001 justified. Review afterwards: Pending.' })
      .waitFor();
    await item.getByText('You judged this justified; it waits for a second reviewer.').waitFor();
    expect(await item.getByRole('button', { name: 'Justified', exact: true }).count()).toBe(0);
    expect(carolProblems).toEqual([`422 POST /api/access-requests/${id}/retro-reviews`]);
    await carol.context().close();

    // A second supervisor: the engine wants a reviewer in another role, and the page says so.
    const erin = await (await newContext(browser)).newPage();
    const erinProblems = watchConsole(erin);
    await signIn(erin, 'sup.erin');
    const erins = erin.getByRole('region', { name: 'Break-glass to review afterwards' }).getByRole('listitem').filter({ hasText: JUSTIFICATION });
    await erins.waitFor({ timeout: 20_000 });
    await settled(erin);
    await erins.getByRole('button', { name: 'Justified', exact: true }).click();
    await erins.getByRole('alert').getByText('Someone in your role has already approved this request; it needs a reviewer in another role.').waitFor();
    expect(await erins.innerText()).not.toContain('ROLE_ALREADY_APPROVED');
    expect(erinProblems).toEqual([`409 POST /api/access-requests/${id}/retro-reviews`]);
    await erin.context().close();

    // The privacy officer: justified, and it leaves the section.
    const dave = await (await newContext(browser)).newPage();
    const daveProblems = watchConsole(dave);
    await signIn(dave, 'priv.dave');
    const daveSection = dave.getByRole('region', { name: 'Break-glass to review afterwards' });
    const daves = daveSection.getByRole('listitem').filter({ hasText: JUSTIFICATION });
    await daves.waitFor({ timeout: 20_000 });
    await settled(dave);
    await daves.getByRole('button', { name: 'Justified', exact: true }).click();
    await daveSection
      .getByRole('status')
      .filter({ hasText: 'You judged the break-glass of clin.alice for patient SYN-0001 justified. Review afterwards: Justified.' })
      .waitFor();
    await daves.waitFor({ state: 'detached', timeout: 20_000 });
    expect(daveProblems).toEqual([]);
    await dave.context().close();
    expect(await retroStatusOf(JUSTIFICATION)).toBe('JUSTIFIED');

    // The clinician's page, left open, follows without a reload; the grant runs on.
    const mine = alice.getByRole('listitem').filter({ hasText: JUSTIFICATION });
    await expect.poll(() => mine.innerText(), { timeout: 20_000 }).toMatch(/Review afterwards:\s+Justified/);
    const after = await mine.innerText();
    expect(after).toContain('Reviews afterwards');
    expect(after).toContain('Approved by sup.carol (Supervisor)');
    expect(after).toContain('Approved by priv.dave (Privacy officer)');
    await mine.getByText('Active', { exact: true }).waitFor();
    expect(aliceProblems).toEqual([]);
    await alice.context().close();
  });

  it('shows break-glass to a reviewer and to the clinician in Chinese with no English left, and takes a judgement of not justified', async () => {
    // The second (and last) break-glass of clin.alice in this file, with something seen under it.
    const api = stack.api;
    const aliceToken = await api.login('clin.alice');
    const opened = await api.call('POST', '/api/break-glass', {
      token: aliceToken,
      body: { studyInstanceUids: [STUDY_B], patientId: 'SYN-0001', justification: JUSTIFICATION_ZH },
    });
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    const token = (await api.call('POST', `/api/access-requests/${opened.body.id}/tokens`, { token: aliceToken })).body.access_token as string;
    const looked = await fetch(`${stack.gateway.url}/dicom-web/studies/${STUDY_B}/series`, {
      headers: { authorization: `Bearer ${token}`, origin: stack.url },
    });
    expect(looked.status).toBe(200);
    await stack.gateway.journal.flush();

    const page = await (await newContext(browser, 'zh-CN')).newPage();
    const problems = watchConsole(page);
    await signIn(page, 'sup.carol');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/reviews');
    const section = page.getByRole('region', { name: '待事后审核的破窗访问' });
    const item = section.getByRole('listitem').filter({ hasText: JUSTIFICATION_ZH });
    await item.waitFor({ timeout: 20_000 });
    await item.getByRole('region', { name: '查看了哪些影像' }).getByRole('row').filter({ hasText: '已放行' }).first().waitFor({ timeout: 20_000 });
    expect(await item.innerText()).toContain('破窗访问（紧急情况）');
    await settled(page);
    expect(englishIn(await page.locator('body').innerText()), 'English left on the review queue in Chinese').toEqual([]);
    await expectAccessible(page, 'the break-glass to review afterwards in Chinese');
    await screenshot(page, 'reviewer-break-glass-zh-CN');

    // Not justified, with the reason: judged at once by one denial, and gone from the section.
    await item.getByRole('button', { name: '不合理' }).click();
    await item.getByLabel('不合理的理由（必填）').fill('急诊记录中没有此患者');
    await item.getByRole('button', { name: '不合理' }).click();
    await section.getByRole('status').filter({ hasText: '您已认定 clin.alice 对患者 SYN-0001 的破窗访问不合理。事后审核：认定不合理。' }).waitFor();
    await item.waitFor({ state: 'detached', timeout: 20_000 });
    expect(await retroStatusOf(JUSTIFICATION_ZH)).toBe('UNJUSTIFIED');
    expect(problems).toEqual([]);
    await page.context().close();

    // The clinician, in Chinese: the emergency form and her break-glass requests, all in her language.
    const clinician = await (await newContext(browser, 'zh-CN')).newPage();
    const clinicianProblems = watchConsole(clinician);
    await signIn(clinician, 'clin.alice');
    await expect.poll(() => new URL(clinician.url()).pathname).toBe('/requests');
    const emergency = clinician.getByRole('region', { name: '紧急访问（破窗）' });
    await emergency.getByRole('button', { name: '打开紧急访问表单' }).click();
    await clinician.getByRole('form', { name: '紧急访问（破窗）' }).getByLabel('时长（分钟）').waitFor();
    const judged = clinician.getByRole('listitem').filter({ hasText: JUSTIFICATION_ZH });
    await expect.poll(() => judged.innerText(), { timeout: 20_000 }).toMatch(/事后审核：\s*认定不合理/);
    expect(await judged.innerText()).toContain('破窗访问');
    await settled(clinician);
    // Only this file's parts of the page: other files' requests carry English justifications of their own.
    const ours = [await emergency.innerText(), await judged.innerText()].join('\n');
    expect(englishIn(ours), 'English left on the clinician’s break-glass in Chinese').toEqual([]);
    await expectAccessible(clinician, 'the clinician’s page with the emergency form open, in Chinese');
    expect(clinicianProblems).toEqual([]);
    await clinician.context().close();
  });
});
