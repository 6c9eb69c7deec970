import { existsSync, type PathLike } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { renderReportHtml } from '../../audit/incident-report/report-html.js';
import { renderReportPdf } from '../../audit/incident-report/report-pdf.js';
import { ReportFontMissingError } from '../../audit/incident-report/pdf-fonts.js';
import { incidentReportSchema, type IncidentReport, type ReportAccess } from '../../contracts/incident.js';
import { escapeXml } from '../../contracts/xml.js';

// The printed investigation report: every access exactly once, every recorded value escaped,
// both languages, and a PDF whose text (decoded through its fonts' ToUnicode maps) holds what
// the report says.

// Lets one test take the system fonts away from the report's font lookup (and nothing else).
const fontsHidden = vi.hoisted(() => ({ value: false }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return { ...fs, existsSync: (path: PathLike) => !(fontsHidden.value && String(path).startsWith('/usr/share/fonts/')) && fs.existsSync(path) };
});

const CJK_FONT = ['/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc'].some((file) => existsSync(file));

const STUDY = '1.2.826.0.1.3680043.8.498.10000000000000000000000000000000000000001';
const HOSTILE_USER = 'clin.<script>alert("x")</script>';
const HOSTILE_PATIENT = 'SYN-0001 שלום 😀 患者 \u202Egnp.exe';
const HOSTILE_REASON = `<img src=x onerror=alert(1)> & "quoted" 'single'`;
const HOSTILE_TITLE = `Leaked CT <b>bold</b> & "files" 'x'`;
const HOSTILE_COMMENT = `Contained & notified: <all> "done"`;

function access(index: number, overrides: Partial<ReportAccess> = {}): ReportAccess {
  return {
    at: new Date(Date.UTC(2026, 10, 1, 8) + index * 60_000).toISOString(),
    username: `clin.user${index % 17}`,
    grantId: `grant-${index % 40}`,
    approvers: ['sup.carol', 'priv.dave'],
    purposeOfUse: 'TREAT',
    breakGlass: false,
    patientId: 'SYN-0001',
    study: STUDY,
    series: `${STUDY}.${index}`,
    instance: `${STUDY}.${index}.1`,
    route: `/dicom-web/studies/${STUDY}/series/${STUDY}.${index}/instances/${STUDY}.${index}.1/rendered`,
    outcome: 'served',
    reason: null,
    bytes: String(100_000 + index),
    clientIp: '10.20.30.40',
    gatewayId: 'gw-1',
    // Long, like the real ones, so that it has to wrap in its cell.
    servingId: `srv-${String(index).padStart(6, '0')}-0f8fad5b-d9cb-469f-a165-70867728950e`,
    ...overrides,
  };
}

function report(accesses: ReportAccess[], overrides: Partial<IncidentReport> = {}): IncidentReport {
  return incidentReportSchema.parse({
    format: 'imaging-access-review/incident-report@1',
    incidentId: 'inc-2026-11-01-leak-ct',
    title: HOSTILE_TITLE,
    status: 'CLOSED',
    incident: {
      declaredBy: 'sec.grace',
      declaredAt: '2026-11-28T08:00:00.000Z',
      origin: { kind: 'declared' },
      signOff: { by: 'sec.grace', at: '2026-11-29T07:00:00.000Z', comment: HOSTILE_COMMENT },
      closedAt: '2026-11-29T07:30:00.000Z',
      closedBy: ['sec.grace', 'priv.dave'],
      team: ['sec.grace', 'priv.dave'],
      containedAt: '2026-11-28T09:00:00.000Z',
    },
    generatedAt: '2026-11-29T08:00:00.000Z',
    window: { from: '2026-10-01T00:00:00.000Z', to: '2026-11-29T08:00:00.000Z' },
    scope: { patients: ['SYN-0001'], studies: [STUDY], users: [] },
    affectedPatients: ['SYN-0001', HOSTILE_PATIENT],
    affectedStudies: [STUDY],
    accesses,
    grants: [
      {
        grantId: 'grant-0',
        requester: 'clin.alice',
        kind: 'standard',
        purposeOfUse: 'TREAT',
        justification: 'Follow-up of a known lesion & "comparison" <prior>',
        approvers: ['sup.carol', 'priv.dave'],
        status: 'REVOKED',
        activatedAt: '2026-11-01T07:00:00.000Z',
        endedAt: '2026-11-02T07:00:00.000Z',
      },
    ],
    clocks: [
      { clock: 'team', dueAt: '2026-11-28T08:30:00.000Z', status: 'MET', doneAt: '2026-11-28T08:10:00.000Z', remindersSent: 1, escalatedAt: null },
      { clock: 'regulator', dueAt: '2026-12-01T08:00:00.000Z', status: 'RUNNING', doneAt: null, remindersSent: 0, escalatedAt: null },
      { clock: 'individualsOuter', dueAt: '2027-01-27T08:00:00.000Z', status: 'NOT_NEEDED', doneAt: null, remindersSent: 0, escalatedAt: null },
    ],
    notifications: [
      {
        id: 'ntf-1',
        audience: 'regulator',
        recipient: 'dpo@authority.example',
        channel: 'email',
        subject: 'Breach <notice> & "details"',
        createdAt: '2026-11-28T09:00:00.000Z',
        transport: 'smtp',
        status: 'SENT',
        sentAt: '2026-11-28T09:00:05.000Z',
      },
    ],
    traces: [
      {
        id: 'trc-1',
        fileSha256: 'a'.repeat(64),
        kind: 'rendered',
        tracedBy: 'sec.grace',
        tracedAt: '2026-11-28T10:00:00.000Z',
        matched: {
          servingId: 'srv-000001-0f8fad5b-d9cb-469f-a165-70867728950e',
          grantId: 'grant-1',
          username: 'clin.user1',
          occurredAt: 'x',
          study: STUDY,
          instance: null,
        },
        detail: 'watermark code matched',
      },
    ],
    ...overrides,
  });
}

const ACCESSES = [
  access(0),
  access(1, { breakGlass: true, purposeOfUse: 'ETREAT', grantId: 'grant-bg-1' }),
  access(2, { outcome: 'refused', reason: HOSTILE_REASON, bytes: '0', username: HOSTILE_USER, grantId: null }),
  access(3, { patientId: HOSTILE_PATIENT, purposeOfUse: `TREAT & "care" 'now'`, servingId: 'srv-<0003>&"odd"' }),
];

/** A grant whose codes the report has no words for: shown as recorded (`constructor` is no word either). */
const ODD_GRANT: IncidentReport['grants'][number] = {
  grantId: 'grant-odd',
  requester: 'clin.bob',
  kind: 'constructor',
  purposeOfUse: 'XYZZY',
  justification: 'an older record',
  approvers: [],
  status: 'ON_HOLD',
  activatedAt: null,
  endedAt: null,
};

/** An open incident that a break-glass opened, not yet signed off. */
function openedByBreakGlass(outcome = 'UNJUSTIFIED'): IncidentReport {
  const base = report(ACCESSES);
  return report(ACCESSES, {
    status: 'OPEN',
    incident: {
      ...base.incident,
      declaredBy: 'system',
      origin: { kind: 'break-glass', accessRequestId: 'req-bg-42', outcome },
      signOff: null,
      closedAt: null,
      closedBy: [],
      containedAt: null,
    },
  });
}

/** The <dd> of a field, by its label, in a section's HTML. */
function dd(html: string, label: string): string {
  const start = html.indexOf(`<dt>${escapeXml(label)}</dt><dd>`);
  expect(start, label).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf('</dd>', start));
}

/** "Words (CODE)" as the HTML marks it up: the code beside its words, in a smaller span. */
const worded = (words: string, code: string) => `<bdi>${escapeXml(words)}</bdi> <span class="code">(<bdi>${escapeXml(code)}</bdi>)</span>`;

/** The HTML of one section, by its id. */
function section(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}"`);
  expect(start).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf('</section>', start));
}

function occurrences(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe('the HTML report', () => {
  const html = renderReportHtml(report(ACCESSES));

  it('is one HTML5 document with its language, and nothing it would fetch or run', () => {
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toMatch(/@media print/);
    expect(html).toMatch(/@page/);
    expect(html).toContain('thead { display: table-header-group; }');
    expect(html).not.toMatch(/<(script|link|iframe|img|object|embed)\b/i);
    expect(html).not.toMatch(/<[^>]+\s(src|href|style|on\w+)=/i);
    for (const external of ['url(', '@import', 'http:', 'https:']) expect(html).not.toContain(external);
  });

  it('lists each access exactly once in the accesses table', () => {
    const accesses = section(html, 'accesses');
    expect(occurrences(accesses, '<tr')).toBe(ACCESSES.length + 1); // the header row and one per access
    for (const a of ACCESSES) expect(occurrences(accesses, escapeXml(a.servingId)), a.servingId).toBe(1);
  });

  it('escapes every recorded value', () => {
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>');
    expect(html).not.toContain('<prior>');
    expect(html).not.toContain('<0003>');
    for (const value of [HOSTILE_USER, HOSTILE_REASON, HOSTILE_TITLE, `TREAT & "care" 'now'`, 'srv-<0003>&"odd"', 'Breach <notice> & "details"']) {
      expect(html).toContain(escapeXml(value));
    }
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
  });

  it('keeps right-to-left text and bidi controls inside their own value', () => {
    // <bdi> isolates each value: an RTL override in a patient id cannot reorder its neighbours.
    expect(html).toContain(`<bdi>${escapeXml(HOSTILE_PATIENT)}</bdi>`);
  });

  it('marks the break-glass access in words, not by colour alone, and says which was refused', () => {
    const accesses = section(html, 'accesses');
    expect(occurrences(accesses, 'BREAK-GLASS (emergency access)')).toBe(1);
    expect(occurrences(accesses, '<tr class="break-glass">')).toBe(1);
    expect(accesses).toContain(`<tr class="refused">`);
    expect(accesses).toContain(`<div>${worded('Refused', 'refused')}</div><div><bdi>&lt;img`);
  });

  it('counts the summary from the accesses', () => {
    const summary = section(html, 'summary');
    expect(summary).toContain('<dt>Accesses served</dt><dd><bdi>3</bdi></dd>');
    expect(summary).toContain('<dt>Accesses refused</dt><dd><bdi>1</bdi></dd>');
    expect(summary).toContain('<dt>Distinct users</dt><dd><bdi>4</bdi></dd>');
    expect(summary).toContain('<dt>Grants</dt><dd><bdi>1</bdi></dd>');
    expect(summary).toContain('<dt>Break-glass accesses</dt><dd><bdi>1</bdi></dd>');
  });

  it('shows every section, and no notification body', () => {
    const ids = ['incident', 'scope', 'summary', 'accesses', 'grants', 'clocks', 'notifications', 'traces'];
    for (const id of ids) section(html, id);
    // The incident section comes first, right after the heading.
    const positions = ids.map((id) => html.indexOf(`<section id="${id}"`));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(section(html, 'notifications')).toContain('Notification bodies are not part of this report.');
    expect(section(html, 'clocks')).toContain(worded('Running', 'RUNNING'));
  });

  it('states how a closed incident was declared, run and closed: status, both sign-offs, team, containment', () => {
    const incident = section(html, 'incident');
    expect(incident).toContain('<h2 id="h-incident">Incident</h2>');
    expect(dd(incident, 'Status')).toContain(worded('Closed', 'CLOSED'));
    expect(dd(incident, 'Origin')).toContain(worded('Declared by a person', 'declared'));
    expect(incident).not.toContain('Break-glass request');
    expect(dd(incident, 'Declared by')).toContain('<bdi>sec.grace</bdi>');
    expect(dd(incident, 'Declared at (UTC)')).toContain('<bdi>2026-11-28T08:00:00.000Z</bdi>');
    expect(dd(incident, 'Incident team')).toContain('<li><bdi>sec.grace</bdi></li><li><bdi>priv.dave</bdi></li>');
    expect(dd(incident, 'Contained at (UTC)')).toContain('<bdi>2026-11-28T09:00:00.000Z</bdi>');
    expect(dd(incident, 'First sign-off by')).toContain('<bdi>sec.grace</bdi>');
    expect(dd(incident, 'First sign-off at (UTC)')).toContain('<bdi>2026-11-29T07:00:00.000Z</bdi>');
    // Free text as recorded, escaped.
    expect(dd(incident, 'First sign-off comment')).toContain(`<bdi>${escapeXml(HOSTILE_COMMENT)}</bdi>`);
    expect(incident).not.toContain('<all>');
    expect(dd(incident, 'Closed by (both sign-offs)')).toContain('<li><bdi>sec.grace</bdi></li><li><bdi>priv.dave</bdi></li>');
    expect(dd(incident, 'Closed at (UTC)')).toContain('<bdi>2026-11-29T07:30:00.000Z</bdi>');
  });

  it('states an open incident opened by a break-glass, with the request and what it was found to be, and no sign-off yet', () => {
    const incident = section(renderReportHtml(openedByBreakGlass()), 'incident');
    expect(dd(incident, 'Status')).toContain(worded('Open', 'OPEN'));
    expect(dd(incident, 'Origin')).toContain(worded('Opened by a break-glass access', 'break-glass'));
    expect(dd(incident, 'Break-glass request')).toContain('<bdi>req-bg-42</bdi>');
    expect(dd(incident, 'Break-glass found, afterwards')).toContain(worded('Not justified', 'UNJUSTIFIED'));
    for (const label of [
      'First sign-off by',
      'First sign-off at (UTC)',
      'First sign-off comment',
      'Closed by (both sign-offs)',
      'Closed at (UTC)',
      'Contained at (UTC)',
    ]) {
      expect(dd(incident, label), label).toContain('<span class="none">—</span>');
    }
    // An outcome with no words is shown as recorded.
    expect(dd(section(renderReportHtml(openedByBreakGlass('SOMETHING_NEW')), 'incident'), 'Break-glass found, afterwards')).toBe(
      '<dt>Break-glass found, afterwards</dt><dd><bdi>SOMETHING_NEW</bdi>',
    );
  });

  it('prints codes in words, with the recorded code beside them', () => {
    const accesses = section(html, 'accesses');
    expect(accesses).toContain(worded('Treatment', 'TREAT'));
    expect(accesses).toContain(worded('Served', 'served'));
    const grants = section(html, 'grants');
    expect(grants).toContain(worded('Revoked', 'REVOKED'));
    expect(grants).toContain(worded('Treatment', 'TREAT'));
    const clocks = section(html, 'clocks');
    for (const [words, code] of [
      ['Team assembled', 'team'],
      ['Met', 'MET'],
      ['Regulator notified', 'regulator'],
      ["Individuals: HIPAA's 60-day outer bound", 'individualsOuter'],
      ['Not needed', 'NOT_NEEDED'],
    ]) {
      expect(clocks).toContain(worded(words!, code!));
    }
    const notifications = section(html, 'notifications');
    for (const [words, code] of [
      ['Regulator', 'regulator'],
      ['E-mail', 'email'],
      ['E-mail server (SMTP)', 'smtp'],
      ['Sent', 'SENT'],
    ]) {
      expect(notifications).toContain(worded(words!, code!));
    }
    expect(section(html, 'traces')).toContain(worded('Rendered image', 'rendered'));
    // No code stands alone in a cell.
    for (const code of ['REVOKED', 'MET', 'RUNNING', 'SENT', 'smtp', 'email', 'rendered', 'TREAT', 'served', 'refused', 'team']) {
      expect(html).not.toContain(`<td><bdi>${code}</bdi></td>`);
    }
  });

  it('shows a code it has no words for exactly as recorded', () => {
    const odd = renderReportHtml(report(ACCESSES, { grants: [ODD_GRANT] }));
    const grants = section(odd, 'grants');
    for (const code of ['constructor', 'XYZZY', 'ON_HOLD']) expect(grants).toContain(`<td><bdi>${code}</bdi></td>`);
    expect(grants).not.toContain('<span class="code">');
    // The unknown purpose of a break-glass access, and one with markup in it, as recorded.
    const accesses = section(html, 'accesses');
    expect(accesses).toContain('<div><bdi>ETREAT</bdi></div>');
    expect(accesses).toContain(`<td><bdi>${escapeXml(`TREAT & "care" 'now'`)}</bdi></td>`);
  });

  it('prints Chinese headings and labels in zh, with the values as recorded', () => {
    const zh = renderReportHtml(report(ACCESSES), { lang: 'zh' });
    expect(zh.startsWith('<!DOCTYPE html>\n<html lang="zh-Hans">')).toBe(true);
    for (const heading of ['事件调查报告', '访问记录', '授权', '时限', '通知', '泄露追踪', '摘要', '紧急访问（破窗）']) expect(zh).toContain(heading);
    expect(zh).not.toContain('Accesses served');
    expect(zh).toContain(escapeXml(HOSTILE_USER));
  });

  it('prints the incident section and the codes in Chinese words, each code beside its words', () => {
    const zh = renderReportHtml(report(ACCESSES), { lang: 'zh' });
    const incident = section(zh, 'incident');
    expect(incident).toContain('<h2 id="h-incident">事件</h2>');
    expect(dd(incident, '状态')).toContain(worded('已关闭', 'CLOSED'));
    expect(dd(incident, '来源')).toContain(worded('由人员宣布', 'declared'));
    expect(dd(incident, '首位签署人')).toContain('<bdi>sec.grace</bdi>');
    expect(dd(incident, '首次签署意见')).toContain(`<bdi>${escapeXml(HOSTILE_COMMENT)}</bdi>`);
    expect(dd(incident, '关闭人（两位签署人）')).toContain('<li><bdi>sec.grace</bdi></li><li><bdi>priv.dave</bdi></li>');
    expect(dd(incident, '关闭时间（UTC）')).toContain('<bdi>2026-11-29T07:30:00.000Z</bdi>');
    for (const [words, code] of [
      ['已放行', 'served'],
      ['已拒绝', 'refused'],
      ['治疗', 'TREAT'],
      ['已撤销', 'REVOKED'],
      ['组建事件小组', 'team'],
      ['已按时完成', 'MET'],
      ['计时中', 'RUNNING'],
      ['当事人通知：HIPAA 60 天最终期限', 'individualsOuter'],
      ['无需执行', 'NOT_NEEDED'],
      ['监管机构', 'regulator'],
      ['电子邮件', 'email'],
      ['邮件服务器（SMTP）', 'smtp'],
      ['已发送', 'SENT'],
      ['渲染图像', 'rendered'],
    ]) {
      expect(zh).toContain(worded(words!, code!));
    }
    const bg = section(renderReportHtml(openedByBreakGlass(), { lang: 'zh' }), 'incident');
    expect(dd(bg, '状态')).toContain(worded('处理中', 'OPEN'));
    expect(dd(bg, '来源')).toContain(worded('由一次破窗访问触发', 'break-glass'));
    expect(dd(bg, '破窗访问事后审核结果')).toContain(worded('认定不合理', 'UNJUSTIFIED'));
    // No English word for a code leaks into the Chinese report; unknown codes stay as recorded.
    for (const english of ['Revoked', 'Served', 'Closed', 'Team assembled', 'Rendered image']) expect(zh).not.toContain(english);
    const odd = section(renderReportHtml(report(ACCESSES, { grants: [ODD_GRANT] }), { lang: 'zh' }), 'grants');
    for (const code of ['constructor', 'XYZZY', 'ON_HOLD']) expect(odd).toContain(`<td><bdi>${code}</bdi></td>`);
  });

  it('says "none recorded" for an empty table rather than printing an empty one', () => {
    const empty = renderReportHtml(report([], { notifications: [], traces: [] }));
    expect(section(empty, 'accesses')).toContain('None recorded.');
    expect(section(empty, 'accesses')).not.toContain('<table');
  });
});

// --- Reading the PDF back -------------------------------------------------------------------
// pdfkit sets text in embedded fonts as hex glyph ids (Identity-H), with a ToUnicode map per
// font. With compress: false the content streams are plain, so the text can be decoded.

function pdfObjects(pdf: string): Map<number, string> {
  const objects = new Map<number, string>();
  for (const match of pdf.matchAll(/(?:^|\n)(\d+) 0 obj\n([\s\S]*?)\nendobj/g)) objects.set(Number(match[1]), match[2]!);
  return objects;
}

/** glyph code → text, from a ToUnicode CMap as pdfkit writes it (bfrange with arrays). */
function toUnicode(cmap: string): Map<number, string> {
  const map = new Map<number, string>();
  for (const range of cmap.matchAll(/<([0-9a-f]+)> <[0-9a-f]+> \[([^\]]*)\]/gi)) {
    let code = parseInt(range[1]!, 16);
    for (const entry of range[2]!.matchAll(/<([0-9a-f ]+)>/gi)) {
      const units = entry[1]!.split(' ').map((hex) => parseInt(hex, 16));
      map.set(code++, String.fromCharCode(...units));
    }
  }
  return map;
}

/** All the text of the PDF, in drawing order, without separators. */
function pdfText(buffer: Buffer): string {
  const pdf = buffer.toString('latin1');
  const objects = pdfObjects(pdf);
  const fonts = new Map<string, Map<number, string> | undefined>();
  for (const [, name, ref] of pdf.matchAll(/\/(F\d+) (\d+) 0 R/g)) {
    const cmapRef = objects.get(Number(ref))?.match(/\/ToUnicode (\d+) 0 R/)?.[1];
    fonts.set(name!, cmapRef === undefined ? undefined : toUnicode(objects.get(Number(cmapRef)) ?? ''));
  }
  let text = '';
  for (const body of objects.values()) {
    if (!body.includes(' TJ')) continue;
    let font: Map<number, string> | undefined;
    for (const op of body.matchAll(/\/(F\d+) [\d.]+ Tf|\[([^\]]*)\] TJ/g)) {
      if (op[1] !== undefined) {
        font = fonts.get(op[1]);
        continue;
      }
      for (const [, hex] of op[2]!.matchAll(/<([0-9a-f]*)>/gi)) {
        if (font) for (let i = 0; i < hex!.length; i += 4) text += font.get(parseInt(hex!.slice(i, i + 4), 16)) ?? '\uFFFD';
        else text += Buffer.from(hex!, 'hex').toString('latin1'); // a built-in font: WinAnsi bytes
      }
    }
  }
  return text;
}

function info(buffer: Buffer, key: string): string | undefined {
  const pdf = buffer.toString('latin1');
  const objects = pdfObjects(pdf);
  const infoRef = pdf.match(/trailer\n<<[\s\S]*?\/Info (\d+) 0 R/)?.[1];
  const value = objects.get(Number(infoRef))?.match(new RegExp(`/${key} (\\d+) 0 R`))?.[1];
  return objects.get(Number(value))?.replace(/^\(|\)$/g, '');
}

function pageCount(buffer: Buffer): number {
  return buffer.toString('latin1').match(/\/Type \/Page\n/g)?.length ?? 0;
}

describe('the PDF report', () => {
  it('is a PDF, with every serving id in its text and its title in the document information', async () => {
    const pdf = await renderReportPdf(report(ACCESSES), { compress: false });
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.toString('latin1').trimEnd().endsWith('%%EOF')).toBe(true);
    const text = pdfText(pdf);
    for (const a of ACCESSES) expect(text, a.servingId).toContain(a.servingId);
    expect(text).toContain(HOSTILE_USER);
    expect(text).toContain('BREAK-GLASS (emergency access)');
    const pages = pageCount(pdf);
    expect(text).toContain(`Page 1 of ${pages}`);
    expect(text).toContain(`Page ${pages} of ${pages}`);
    expect(text).toContain('inc-2026-11-01-leak-ct');
    expect(info(pdf, 'Title')).toBe('Incident investigation report inc-2026-11-01-leak-ct');
    expect(info(pdf, 'CreationDate')).toBe('D:20261129080000Z');
  });

  it('states the incident and its close, and prints codes in words with the code beside them', async () => {
    const text = pdfText(await renderReportPdf(report(ACCESSES, { grants: [...report(ACCESSES).grants, ODD_GRANT] }), { compress: false }));
    // Fields run the page's width: each on one line.
    for (const line of [
      'Status: Closed (CLOSED)',
      'Origin: Declared by a person (declared)',
      'Declared by: sec.grace',
      'Incident team: sec.grace, priv.dave',
      'Contained at (UTC): 2026-11-28T09:00:00.000Z',
      'First sign-off by: sec.grace',
      'First sign-off at (UTC): 2026-11-29T07:00:00.000Z',
      `First sign-off comment: ${HOSTILE_COMMENT}`,
      'Closed by (both sign-offs): sec.grace, priv.dave',
      'Closed at (UTC): 2026-11-29T07:30:00.000Z',
    ]) {
      expect(text).toContain(line);
    }
    // Before the scope: the incident section comes first.
    expect(text.indexOf('Status: Closed (CLOSED)')).toBeLessThan(text.indexOf('Scope, affected patients and studies'));
    // Table cells wrap, so compare without spaces.
    const squeezed = text.replace(/\s/g, '');
    for (const words of [
      'Treatment(TREAT)',
      'Served(served)',
      'Refused(refused)',
      'Revoked(REVOKED)',
      'Teamassembled(team)',
      'Met(MET)',
      'Running(RUNNING)',
      "Individuals:HIPAA's60-dayouterbound(individualsOuter)",
      'Notneeded(NOT_NEEDED)',
      'E-mailserver(SMTP)(smtp)',
      'Sent(SENT)',
      'Renderedimage(rendered)',
    ]) {
      expect(squeezed).toContain(words);
    }
    // Codes without words, as recorded and nothing beside them.
    for (const code of ['constructor', 'XYZZY', 'ON_HOLD', 'ETREAT']) {
      expect(squeezed).toContain(code);
      expect(squeezed).not.toContain(`${code}(`);
    }
  });

  it('states a break-glass origin in the PDF', async () => {
    const text = pdfText(await renderReportPdf(openedByBreakGlass(), { compress: false }));
    for (const line of [
      'Status: Open (OPEN)',
      'Origin: Opened by a break-glass access (break-glass)',
      'Break-glass request: req-bg-42',
      'Break-glass found, afterwards: Not justified (UNJUSTIFIED)',
      'First sign-off by: —',
      'Closed by (both sign-offs): —',
    ]) {
      expect(text).toContain(line);
    }
  });

  it('is compressed by default, and the same report gives the same document information', async () => {
    const [a, b] = await Promise.all([renderReportPdf(report(ACCESSES)), renderReportPdf(report(ACCESSES))]);
    expect(a.toString('latin1')).toContain('/FlateDecode');
    expect(a.toString('latin1').match(/\/ID \[[^\]]*\]/)?.[0]).toBe(b.toString('latin1').match(/\/ID \[[^\]]*\]/)?.[0]);
  });

  it('breaks a long table across pages, repeating its header, with "page N of M" on each', async () => {
    const few = await renderReportPdf(report(ACCESSES), { compress: false });
    const many = await renderReportPdf(report(Array.from({ length: 200 }, (_, i) => access(i))), { compress: false });
    const pages = pageCount(many);
    expect(pages).toBeGreaterThan(pageCount(few) + 5);
    const text = pdfText(many);
    expect(text).toContain(`Page ${pages} of ${pages}`);
    // The serving-id header: once per page the accesses table reaches (all but the last two).
    expect(occurrences(text, 'Serving id')).toBeGreaterThanOrEqual(pages - 2);
  });

  it('splits a row taller than a page and loses none of it', async () => {
    const words = Array.from({ length: 2500 }, (_, i) => `w${String(i).padStart(4, '0')}`);
    const long = report(ACCESSES);
    long.grants[0]!.justification = words.join(' ');
    const text = pdfText(await renderReportPdf(long, { compress: false }));
    const squeezed = text.replace(/\s/g, '');
    expect(squeezed).toContain(words.slice(0, 50).join(''));
    expect(squeezed).toContain(words.slice(-50).join(''));
  });

  it.skipIf(!CJK_FONT)('prints Chinese headings with an embedded CJK font', async () => {
    const pdf = await renderReportPdf(report(ACCESSES), { lang: 'zh', compress: false });
    const text = pdfText(pdf);
    for (const heading of ['事件调查报告', '访问记录', '泄露追踪', `第 1 页，共 ${pageCount(pdf)} 页`]) expect(text).toContain(heading);
    for (const line of [
      '状态: 已关闭 (CLOSED)',
      '来源: 由人员宣布 (declared)',
      '首位签署人: sec.grace',
      `首次签署意见: ${HOSTILE_COMMENT}`,
      '关闭人（两位签署人）: sec.grace, priv.dave',
    ]) {
      expect(text).toContain(line);
    }
    const squeezed = text.replace(/\s/g, '');
    for (const words of [
      '治疗(TREAT)',
      '已放行(served)',
      '已撤销(REVOKED)',
      '组建事件小组(team)',
      '已按时完成(MET)',
      '当事人通知：HIPAA60天最终期限(individualsOuter)',
      '邮件服务器（SMTP）(smtp)',
      '已发送(SENT)',
      '渲染图像(rendered)',
    ]) {
      expect(squeezed).toContain(words);
    }
    for (const english of ['Revoked', 'Served', 'Team assembled']) expect(text).not.toContain(english);
    for (const a of ACCESSES) expect(text).toContain(a.servingId);
    expect(pdf.toString('latin1')).toMatch(/\/BaseFont \/[A-Z]{6}\+WenQuanYi/);
    expect(pdf.toString('latin1')).toContain('/Lang (zh-Hans)');
  });

  it('refuses a Chinese report without a CJK font, saying which package provides one', async () => {
    fontsHidden.value = true;
    try {
      const rendering = renderReportPdf(report(ACCESSES), { lang: 'zh' });
      await expect(rendering).rejects.toBeInstanceOf(ReportFontMissingError);
      await expect(rendering).rejects.toThrow(/fonts-wqy-microhei/);
      // English falls back to pdfkit's Helvetica and still renders.
      const pdf = await renderReportPdf(report(ACCESSES), { compress: false });
      expect(pdfText(pdf)).toContain(ACCESSES[0]!.servingId);
    } finally {
      fontsHidden.value = false;
    }
  });
});

describe('a report of 10 000 accesses', () => {
  const large = report(Array.from({ length: 10_000 }, (_, i) => access(i, { breakGlass: i % 97 === 0, outcome: i % 13 === 0 ? 'refused' : 'served' })));

  it('renders as HTML', () => {
    const html = renderReportHtml(large);
    expect(occurrences(section(html, 'accesses'), '<tr')).toBe(10_001);
  });

  // No timing assertion. A fifth of them: 10 000 rows take most of a minute on two busy cores,
  // and page breaks, repeated headers and split rows are proven above on fewer.
  it('renders 2 000 of them as PDF', { timeout: 600_000 }, async () => {
    const pdf = await renderReportPdf({ ...large, accesses: large.accesses.slice(0, 2_000) });
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.toString('latin1').trimEnd().endsWith('%%EOF')).toBe(true);
  });
});
