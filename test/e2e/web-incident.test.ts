import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AccessRequestService } from '../../api/access-request-service.js';
import { startCheckpointSigningWorker, type CheckpointSigningWorker } from '../../api/checkpoint-signing-worker.js';
import { FreezeService } from '../../api/freeze-service.js';
import { createLogger } from '../../config/logger.js';
import { INCIDENT_CLOCKS } from '../../domain/incident.js';
import { loadSyntheticStudies, syntheticStudy } from '../../scripts/lib/synthetic-studies.js';
import {
  expectAccessible,
  expectNoEnglish,
  launchChromium,
  newContext,
  screenshot,
  settled,
  signIn as signInAs,
  startWebStack,
  watchConsole,
  type WebStack,
} from '../support/web-harness.js';

/** Polls as long as a busy two-core machine may need (an incident's workflow answers, a page follows). */
const eventually = <T>(read: () => T | Promise<T>, options: { timeout?: number } = {}) => expect.poll(read, { timeout: 20_000, ...options });

// The incidents pages, in English and in Chinese: a security officer declares an incident from
// the page, its five clocks run, the team is named, containment freezes its patient and study,
// the regulator and the patients are notified, and two people sign it off. The test database is
// shared with every file running alongside: every patient and study here is this file's own
// (containment freezes them), and no demo patient or user is ever frozen.

let stack: WebStack;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let browser: Browser;
let signing: CheckpointSigningWorker;

beforeAll(async () => {
  stack = await startWebStack();
  chromium = await launchChromium();
  browser = chromium.browser;
  // As an API process does in production: containment's freezes revoke what they match, each revocation a message it signs.
  const { api } = stack;
  const deps = { config: api.config, db: api.db, temporal: api.temporal, keys: api.keys, log: createLogger('web-incident-test', 'silent') };
  const freezes = new FreezeService({ ...deps, requests: new AccessRequestService(deps) });
  signing = await startCheckpointSigningWorker({ temporal: api.config.temporal, db: api.db, keys: api.keys, freezes });
});
afterAll(async () => {
  await signing?.stop();
  await chromium?.close();
  await stack?.close();
});

const signIn = (page: Page, username: string) => signInAs(page, stack.url, username);

/** A greyscale PNG of random pixels. */
function noisePng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale, no interlace
  const rows = Buffer.concat(Array.from({ length: height }, () => Buffer.concat([Buffer.from([0]), randomBytes(width)])));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** What the page says, in each language: literal, so a missing or wrong translation fails here. */
interface Words {
  locale: 'en' | 'zh-CN';
  patient: string;
  study: string;
  title: string;
  nav: string;
  heading: string;
  declareForm: string;
  titleLabel: string;
  descriptionLabel: string;
  patientsLabel: string;
  studiesLabel: string;
  declare: string;
  clock: { running: string; met: string };
  outerBound: string;
  teamForm: string;
  members: string;
  assemble: string;
  teamIs: RegExp;
  containForm: string;
  confirmContain: string;
  contain: string;
  contained: RegExp;
  notifyForm: string;
  regulator: string;
  individuals: string;
  channel: string;
  sms: string;
  subject: string;
  body: string;
  send: string;
  regulatorQueued: string;
  smtp: string;
  outbox: string;
  smsCell: string;
  patientRecipient: string;
  signOffForm: string;
  comment: string;
  signOff: string;
  signOffSecond: string;
  firstSigned: RegExp;
  secondNeeded: string;
  /** What the page shows when the first signer signs again. */
  selfRefusal: string;
  open: string;
  closed: string;
  closedBy: RegExp;
}

const EN: Words = {
  locale: 'en',
  patient: 'SYN-WINC1',
  study: '1.2.826.0.1.3680043.8.498.32001',
  title: 'Web incident: SYN-WINC1 images posted online',
  nav: 'Incidents',
  heading: 'Incidents',
  declareForm: 'Declare an incident',
  titleLabel: 'Title',
  descriptionLabel: 'Description (optional)',
  patientsLabel: 'Patient IDs',
  studiesLabel: 'Study Instance UIDs',
  declare: 'Declare incident',
  clock: { running: 'Running', met: 'Met' },
  outerBound: 'Individuals: HIPAA 60-day outer bound',
  teamForm: 'Assemble the team',
  members: 'Team members (usernames)',
  assemble: 'Assemble team',
  teamIs: /Incident team\s+sec\.grace and priv\.dave/,
  containForm: 'Contain',
  confirmContain: 'I understand this freezes access to everything in scope',
  contain: 'Contain: freeze access',
  contained: /Containment\s+Contained .+ by 2 freezes\./,
  notifyForm: 'Notify',
  regulator: 'The regulator',
  individuals: 'The affected individuals',
  channel: 'Channel',
  sms: 'SMS',
  subject: 'Subject',
  body: 'Message',
  send: 'Send notification',
  regulatorQueued: 'The regulator’s notification is queued.',
  smtp: 'E-mail server (SMTP)',
  outbox: 'Outbox (hospital service)',
  smsCell: 'SMS',
  patientRecipient: 'Patient SYN-WINC1',
  signOffForm: 'Sign off',
  comment: 'Why it can be closed',
  signOff: 'Sign off',
  signOffSecond: 'Sign off as the second person',
  firstSigned: /Signed off first by sec\.grace, .+:/,
  secondNeeded: 'A second, different person must sign off to close the incident.',
  // In English the server's own sentence.
  selfRefusal: 'A second, different person must sign the incident off.',
  open: 'Open',
  closed: 'Closed',
  closedBy: /Closed by sec\.grace and priv\.dave, /,
};

const ZH: Words = {
  locale: 'zh-CN',
  patient: 'SYN-WINC2',
  study: '1.2.826.0.1.3680043.8.498.32002',
  title: '网页事件测试：SYN-WINC2 的影像在网上被发布',
  nav: '安全事件',
  heading: '安全事件',
  declareForm: '宣布安全事件',
  titleLabel: '标题',
  descriptionLabel: '描述（可选）',
  patientsLabel: '患者编号',
  studiesLabel: '检查实例 UID',
  declare: '宣布事件',
  clock: { running: '计时中', met: '已按时完成' },
  outerBound: '当事人通知：HIPAA 60 天最终期限',
  teamForm: '组建事件小组',
  members: '小组成员（用户名）',
  assemble: '组建小组',
  teamIs: /事件小组\s+sec\.grace和priv\.dave/,
  containForm: '控制',
  confirmContain: '我了解这将冻结对范围内全部对象的访问',
  contain: '控制：冻结访问',
  contained: /控制\s+已于 .+ 控制，共 2 项冻结。/,
  notifyForm: '发送通知',
  regulator: '监管机构',
  individuals: '受影响的当事人',
  channel: '渠道',
  sms: '短信',
  subject: '主题',
  body: '正文',
  send: '发送通知',
  regulatorQueued: '给监管机构的通知已排队待发。',
  smtp: '邮件服务器（SMTP）',
  outbox: '发件箱（医院服务）',
  smsCell: '短信',
  patientRecipient: '患者 SYN-WINC2',
  signOffForm: '签署确认',
  comment: '可以关闭的理由',
  signOff: '签署确认',
  signOffSecond: '作为第二人签署确认',
  firstSigned: /首位签署人：sec\.grace，.+：/,
  secondNeeded: '须由另一名不同人员签署确认，事件才能关闭。',
  // In Chinese the reason in Chinese first; the server's English sentence follows it, marked as such.
  selfRefusal: '您已签署确认过此事件：须由另一名不同人员签署确认。',
  open: '处理中',
  closed: '已关闭',
  closedBy: /已由 sec\.grace和priv\.dave 关闭，/,
};

async function openIncidents(page: Page, words: Words): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: words.nav }).click();
  await eventually(() => new URL(page.url()).pathname).toBe('/incidents');
  await page.getByRole('heading', { name: words.heading, level: 1 }).waitFor();
}

/** A clock's row in the detail page's table. */
const clockRow = (page: Page, clock: string): Locator => page.locator(`tr[data-clock="${clock}"]`);
const clockStates = (page: Page) =>
  Promise.all(INCIDENT_CLOCKS.map(async (clock) => (await clockRow(page, clock).locator('[data-status]').getAttribute('data-status')) ?? ''));

/** A section of the detail page by its heading. */
const region = (page: Page, name: string): Locator => page.getByRole('region', { name, exact: true });
const form = (page: Page, name: string): Locator => page.getByRole('form', { name, exact: true });

/** The incident's id from the detail page's address. */
const incidentIdOf = (page: Page) => decodeURIComponent(new URL(page.url()).pathname.split('/')[2] ?? '');

/**
 * The whole cycle in one language: declared, team, containment, both notifications, the first
 * sign-off and its refused repeat; then a privacy officer closes it. Returns the incident's id.
 */
async function runIncident(words: Words): Promise<string> {
  const zh = words.locale === 'zh-CN';
  const suffix = words.locale;
  const grace = await (await newContext(browser, words.locale)).newPage();
  const graceProblems = watchConsole(grace);
  await signIn(grace, 'sec.grace');
  await eventually(() => new URL(grace.url()).pathname).toBe('/grants');
  await openIncidents(grace, words);

  // Declared from the page: the detail page opens on it, every clock running.
  const declare = form(grace, words.declareForm);
  await declare.getByLabel(words.titleLabel, { exact: true }).fill(words.title);
  await declare.getByLabel(words.descriptionLabel).fill(zh ? '在一个论坛上发现。' : 'Found on a forum by the press office.');
  await declare.getByLabel(words.patientsLabel, { exact: true }).fill(`${words.patient}\n`);
  await declare.getByLabel(words.studiesLabel, { exact: true }).fill(words.study);
  await settled(grace);
  if (zh) await expectNoEnglish(grace, 'the incidents list');
  await expectAccessible(grace, `the incidents list (${suffix})`);
  await screenshot(grace, `incident-list-declare-${suffix}`);
  await declare.getByRole('button', { name: words.declare }).click();
  await eventually(() => new URL(grace.url()).pathname).toMatch(/^\/incidents\/inc-/);
  const id = incidentIdOf(grace);
  await grace.getByRole('heading', { name: words.title, level: 1 }).waitFor();
  await grace.getByText(words.open, { exact: true }).first().waitFor();
  await eventually(() => clockStates(grace)).toEqual(INCIDENT_CLOCKS.map(() => 'RUNNING'));
  for (const clock of INCIDENT_CLOCKS) expect(await clockRow(grace, clock).innerText()).toContain(words.clock.running);
  await clockRow(grace, 'individualsOuter').getByText(words.outerBound).waitFor();
  const declared = (await stack.api.call('GET', `/api/incidents/${id}`, { token: await stack.api.login('aud.frank') })).body;
  expect(declared).toMatchObject({ status: 'OPEN', declaredBy: 'sec.grace', scope: { patients: [words.patient], studies: [words.study], users: [] } });
  await settled(grace);
  if (zh) await expectNoEnglish(grace, 'a declared incident');
  await expectAccessible(grace, `a declared incident (${suffix})`);
  await screenshot(grace, `incident-declared-${suffix}`);

  // The team: the team clock is met.
  const team = form(grace, words.teamForm);
  await team.getByLabel(words.members).fill('sec.grace\npriv.dave');
  await team.getByRole('button', { name: words.assemble }).click();
  await eventually(() => clockRow(grace, 'team').locator('[data-status]').getAttribute('data-status')).toBe('MET');
  expect(await clockRow(grace, 'team').innerText()).toContain(words.clock.met);
  expect(await team.count()).toBe(0);
  await eventually(() => region(grace, zh ? '事件概况' : 'About this incident').innerText()).toMatch(words.teamIs);

  // Containment asks first (the box is required), then freezes the patient and the study.
  const contain = form(grace, words.containForm);
  const confirm = contain.getByLabel(words.confirmContain);
  expect(await confirm.evaluate((input) => (input as HTMLInputElement).required)).toBe(true);
  await confirm.check();
  await contain.getByRole('button', { name: words.contain }).click();
  await eventually(() => clockRow(grace, 'containment').locator('[data-status]').getAttribute('data-status'), { timeout: 30_000 }).toBe('MET');
  await eventually(() => region(grace, zh ? '事件概况' : 'About this incident').innerText()).toMatch(words.contained);
  const freezes = (await stack.api.call('GET', '/api/freezes', { token: await stack.api.login('aud.frank') })).body.items as {
    scope: string;
    value: string;
    status: string;
    reason: string;
  }[];
  const ours = freezes.filter((f) => f.reason.startsWith(`Incident ${id}:`));
  expect(ours.map((f) => [f.scope, f.value, f.status]).sort()).toEqual([
    ['patient', words.patient, 'ACTIVE'],
    ['study', words.study, 'ACTIVE'],
  ]);

  // The regulator by e-mail (SMTP); the clock is met once the mail is sent.
  const notify = form(grace, words.notifyForm);
  await notify.getByLabel(words.regulator, { exact: true }).check();
  await notify.getByLabel(words.subject, { exact: true }).fill(zh ? `数据泄露通知 ${id}` : `Breach notification ${id}`);
  await notify.getByLabel(words.body, { exact: true }).fill(zh ? '根据第 33 条通知：一名患者的影像。' : 'Article 33 notification: imaging of one patient.');
  await notify.getByRole('button', { name: words.send }).click();
  await notify.getByRole('status').filter({ hasText: words.regulatorQueued }).waitFor();
  const notifications = region(grace, zh ? '通知' : 'Notifications');
  const regulatorRow = notifications.locator('tr[data-audience="regulator"]');
  await regulatorRow.waitFor();
  expect(await regulatorRow.innerText()).toContain('regulator@dpa.test');
  expect(await regulatorRow.innerText()).toContain(words.smtp);
  await eventually(() => clockRow(grace, 'regulator').locator('[data-status]').getAttribute('data-status'), { timeout: 30_000 }).toBe('MET');

  // The patients by SMS through the hospital's outbox: both individuals' clocks are met.
  await notify.getByLabel(words.individuals, { exact: true }).check();
  await notify.getByLabel(words.channel, { exact: true }).selectOption({ label: words.sms });
  await notify.getByLabel(words.subject, { exact: true }).fill(zh ? '关于您的影像' : 'About your images');
  const smsBody = zh ? '我们必须告知您：您的影像曾被他人查看。' : 'We must tell you that images of yours were seen.';
  await notify.getByLabel(words.body, { exact: true }).fill(smsBody);
  await notify.getByRole('button', { name: words.send }).click();
  const individualRow = notifications.locator('tr[data-audience="individuals"]');
  await individualRow.waitFor();
  const individualText = await individualRow.innerText();
  for (const expected of [words.patientRecipient, words.smsCell, words.outbox]) expect(individualText).toContain(expected);
  await expect
    .poll(() => Promise.all(['individuals', 'individualsOuter'].map((c) => clockRow(grace, c).locator('[data-status]').getAttribute('data-status'))))
    .toEqual(['MET', 'MET']);
  // The body opens under its subject.
  expect(await individualRow.getByText(smsBody).isVisible()).toBe(false);
  await individualRow.locator('summary').click();
  await individualRow.getByText(smsBody).waitFor();

  // The first sign-off: the page says who signed and that a second person is needed.
  const signOff = form(grace, words.signOffForm);
  await signOff.getByLabel(words.comment).fill(zh ? '已控制并已通知。' : 'Contained and notified.');
  await signOff.getByRole('button', { name: words.signOff, exact: true }).click();
  const about = region(grace, zh ? '事件概况' : 'About this incident');
  await eventually(() => about.innerText()).toMatch(words.firstSigned);
  expect(await about.innerText()).toContain(words.secondNeeded);
  // The first signer is offered no second sign-off (the server refuses one too: incident.test.ts).
  await eventually(() => form(grace, words.signOffForm).count()).toBe(0);
  await settled(grace);
  await expectAccessible(grace, `an incident signed off once (${suffix})`);
  await screenshot(grace, `incident-signed-once-${suffix}`);
  expect(graceProblems).toEqual([]);

  // A privacy officer closes it: no declaration and no containment offered to her role.
  const dave = await (await newContext(browser, words.locale)).newPage();
  const daveProblems = watchConsole(dave);
  await signIn(dave, 'priv.dave');
  await eventually(() => new URL(dave.url()).pathname).toBe('/reviews');
  await openIncidents(dave, words);
  expect(await form(dave, words.declareForm).count()).toBe(0);
  await dave.getByRole('link', { name: words.title }).click();
  await dave.getByRole('heading', { name: words.title, level: 1 }).waitFor();
  expect(await form(dave, words.containForm).count()).toBe(0);
  const second = form(dave, words.signOffForm);
  await second.getByLabel(words.comment).fill(zh ? '同意关闭。' : 'Agreed: contained and notified.');
  await second.getByRole('button', { name: words.signOffSecond }).click();
  await dave.locator('[data-status="CLOSED"]').getByText(words.closed, { exact: true }).waitFor();
  await eventually(() => region(dave, zh ? '事件概况' : 'About this incident').innerText()).toMatch(words.closedBy);
  // Closed: nothing left to do, every clock met.
  expect(await dave.getByRole('form').count()).toBe(0);
  expect(await clockStates(dave)).toEqual(INCIDENT_CLOCKS.map(() => 'MET'));
  await settled(dave);
  if (zh) await expectNoEnglish(dave, 'a closed incident');
  await expectAccessible(dave, `a closed incident (${suffix})`);
  await screenshot(dave, `incident-closed-${suffix}`);
  expect(daveProblems).toEqual([]);

  // The first signer's page, left open, follows without a reload.
  await grace.locator('[data-status="CLOSED"]').getByText(words.closed, { exact: true }).waitFor({ timeout: 15_000 });
  const closed = (await stack.api.call('GET', `/api/incidents/${id}`, { token: await stack.api.login('aud.frank') })).body;
  expect(closed).toMatchObject({ status: 'CLOSED', closedBy: ['sec.grace', 'priv.dave'] });
  await dave.context().close();
  await grace.context().close();
  return id;
}

describe('the incidents pages in English', () => {
  let id: string;

  it('sec.grace declares, names the team, contains, notifies and signs off; priv.dave closes it', async () => {
    id = await runIncident(EN);
  });

  it('an auditor reads the incident, downloads its report in three forms and its signed evidence, and can change nothing', async () => {
    const page = await (await newContext(browser)).newPage();
    const problems = watchConsole(page);
    await signIn(page, 'aud.frank');
    await eventually(() => new URL(page.url()).pathname).toBe('/cases');
    await openIncidents(page, EN);
    expect(await form(page, EN.declareForm).count()).toBe(0);
    await page.getByRole('link', { name: EN.title }).click();
    await page.getByRole('heading', { name: EN.title, level: 1 }).waitFor();
    expect(await page.getByRole('form').count()).toBe(0);
    const report = region(page, 'Investigation report');
    const fetchFile = async (button: string) => {
      const [download] = await Promise.all([page.waitForEvent('download'), report.getByRole('button', { name: button }).click()]);
      return { name: download.suggestedFilename(), bytes: readFileSync((await download.path())!) };
    };
    const json = await fetchFile('Download report (JSON)');
    expect(json.name).toBe(`${id}.report.json`);
    expect(JSON.parse(json.bytes.toString('utf8'))).toMatchObject({ incidentId: id, scope: { patients: [EN.patient] } });
    const html = await fetchFile('Download printable report (HTML)');
    expect(html.name).toBe(`${id}.report.en.html`);
    expect(html.bytes.toString('utf8')).toContain('<html lang="en');
    const pdf = await fetchFile('Download report (PDF)');
    expect(pdf.name).toBe(`${id}.report.en.pdf`);
    expect(pdf.bytes.subarray(0, 5).toString()).toBe('%PDF-');
    const evidence = await fetchFile('Download signed evidence bundle');
    expect(evidence.name).toBe(`${id}.evidence.json`);
    expect(JSON.parse(evidence.bytes.toString('utf8'))).toHaveProperty('bundle');
    await report.getByText(`Saved as ${id}.evidence.json.`).waitFor();
    await settled(page);
    await expectAccessible(page, 'a closed incident as an auditor');
    await screenshot(page, 'incident-auditor-en');
    expect(problems).toEqual([]);
    await page.context().close();
  });

  it('a clinician has no incidents entry, the page sends them home, and the API refuses them', async () => {
    const page = await (await newContext(browser)).newPage();
    await signIn(page, 'clin.alice');
    await eventually(() => new URL(page.url()).pathname).toBe('/requests');
    await page.getByRole('navigation').getByRole('link').first().waitFor();
    expect(await page.getByRole('navigation').getByRole('link', { name: 'Incidents' }).count()).toBe(0);
    await page.goto(`${stack.url}/incidents`);
    await eventually(() => new URL(page.url()).pathname).toBe('/requests');
    const token = await stack.api.login('clin.alice');
    const list = await stack.api.call('GET', '/api/incidents', { token });
    expect(list.status).toBe(403);
    expect(list.body).toMatchObject({ reason: 'NOT_PERMITTED' });
    expect((await stack.api.call('GET', `/api/incidents/${id}`, { token })).status).toBe(403);
    await page.context().close();
  });
});

describe('a leaked file traced from the page', () => {
  // A picture that was never served (noise: no served rendering's perceptual hash is near it): the
  // trace records it with no confident match, and says why.
  const NEVER_SERVED = noisePng(96, 96);

  it('sec.grace uploads a file on an open incident; the page lists the trace with no confident match', async () => {
    const declared = await stack.api.call('POST', '/api/incidents', {
      token: await stack.api.login('sec.grace'),
      body: { title: 'Web incident: a leaked PNG to trace', scope: { patients: [], studies: [], users: [] } },
    });
    expect(declared.status, JSON.stringify(declared.body)).toBe(201);
    const id = declared.body.id as string;
    const page = await (await newContext(browser)).newPage();
    const problems = watchConsole(page);
    await signIn(page, 'sec.grace');
    await page.goto(`${stack.url}/incidents/${encodeURIComponent(id)}`);
    const traces = region(page, 'Leaked files');
    await traces.getByText('No leaked file has been traced.').waitFor();
    const trace = form(page, 'Trace a leaked file');
    await trace.getByLabel('Leaked file').setInputFiles({ name: 'leak.png', mimeType: 'image/png', buffer: NEVER_SERVED });
    await trace.getByRole('button', { name: 'Trace' }).click();
    await trace.getByRole('status').filter({ hasText: 'The file was traced; the result is listed below.' }).waitFor({ timeout: 30_000 });
    const item = traces.getByRole('listitem').filter({ hasText: 'Rendered image' });
    await item.getByText('No confident match', { exact: true }).waitFor();
    expect(await item.innerText()).toMatch(/Traced\s+sec\.grace, /);
    expect(await item.innerText()).toMatch(/How it was matched\s+\S/);
    await settled(page);
    await expectAccessible(page, 'an incident with a traced file');
    await screenshot(page, 'incident-trace-en');
    expect(problems).toEqual([]);
    await page.context().close();
  });
});

describe('the incidents pages in Chinese', () => {
  it('sec.grace declares, names the team, contains, notifies and signs off; priv.dave closes it; no English left', async () => {
    await runIncident(ZH);
  });

  it('an incident a break-glass opened by itself is titled and described in Chinese, in the list and on its page', async () => {
    const { api } = stack;
    // This file's own clinician, patient and study: a break-glass counts against its user's daily limit.
    const clinician = 'clin.winnie';
    const patient = 'SYN-WINC4';
    const study = '1.2.826.0.1.3680043.8.498.32004';
    const pacs = { restUrl: inject('pacsDicomwebUrl').replace(/\/dicom-web$/, ''), username: inject('pacsUsername'), password: inject('pacsPassword') };
    await loadSyntheticStudies(pacs, [syntheticStudy(study, patient)]);
    await api.db.user.upsert({
      where: { username: clinician },
      create: { username: clinician, displayName: clinician, roles: ['clinician'], departmentId: 'radiology' },
      update: {},
    });
    // A review window of seconds: the break-glass goes unreviewed and opens its incident.
    const reviewWindow = api.config.breakGlass.reviewWindowMs;
    api.config.breakGlass.reviewWindowMs = 3_000;
    let opened: Awaited<ReturnType<typeof api.call>>;
    try {
      opened = await api.call('POST', '/api/break-glass', {
        token: await api.login(clinician),
        body: { studyInstanceUids: [study], patientId: patient, justification: 'Trauma bay, prior imaging needed at once' },
      });
    } finally {
      api.config.breakGlass.reviewWindowMs = reviewWindow;
    }
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    const incidentId = `inc-bg-${opened.body.id}`;
    await eventually(() => api.db.incident.findUnique({ where: { id: incidentId } }), { timeout: 30_000 }).not.toBeNull();

    const page = await (await newContext(browser, 'zh-CN')).newPage();
    const problems = watchConsole(page);
    await signIn(page, 'sec.grace');
    await openIncidents(page, ZH);
    const title = `破窗访问未按时审核：${opened.body.id}`;
    const link = page.getByRole('link', { name: title, exact: true });
    await link.waitFor({ timeout: 20_000 });
    await expectNoEnglish(page, 'the incidents list with a break-glass incident');
    await link.click();
    await page.getByRole('heading', { name: title, level: 1 }).waitFor();
    await page.getByText(`破窗访问 ${opened.body.id} 的事后审核结果为“未按时审核”，系统自动开启此事件。`, { exact: true }).waitFor();
    await page.getByText('系统自动，', { exact: false }).first().waitFor();
    await expectNoEnglish(page, 'a break-glass incident');
    await screenshot(page, 'web-incident-break-glass-zh');
    expect(problems).toEqual([]);
    await page.context().close();
  });
});
