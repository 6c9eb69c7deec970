import type { AccessRequestStatus, PurposeOfUse } from '../../domain/access-request.js';
import type { RetroStatus } from '../../domain/break-glass.js';
import type { IncidentClock } from '../../domain/incident.js';
import type { ClockView, IncidentReport, NotificationView, ReportAccess, TraceView } from '../../contracts/incident.js';

// The words of the printed investigation report, in each language it is printed in: its
// headings and labels, and words for the codes it records (statuses, outcomes, purposes,
// clocks, channels). A code in words is printed with the code beside it, which is what was
// recorded; a code with no words here is printed as recorded. Identifiers, names, times and
// free text (reasons, justifications, comments) are evidence and are never translated.

/** Words for each recorded code, by vocabulary. Typed by the codes, so a new one needs words. */
export interface ReportCodeWords {
  incidentStatus: Record<IncidentReport['status'], string>;
  origin: Record<IncidentReport['incident']['origin']['kind'], string>;
  /** What the break-glass that opened an incident was found to be, afterwards. */
  retroStatus: Record<RetroStatus, string>;
  outcome: Record<ReportAccess['outcome'], string>;
  requestKind: Record<'review' | 'break-glass', string>;
  requestStatus: Record<AccessRequestStatus, string>;
  /** HL7 v3 ActReason codes: the purposes offered, and BTG for break-glass. */
  purpose: Record<PurposeOfUse | 'BTG', string>;
  clock: Record<IncidentClock, string>;
  clockStatus: Record<ClockView['status'], string>;
  audience: Record<NotificationView['audience'], string>;
  channel: Record<NotificationView['channel'], string>;
  transport: Record<NotificationView['transport'], string>;
  notificationStatus: Record<NotificationView['status'], string>;
  traceKind: Record<TraceView['kind'], string>;
}

export const REPORT_LANGS = ['en', 'zh'] as const;
export type ReportLang = (typeof REPORT_LANGS)[number];

export interface ReportLabels {
  /** BCP 47 tag for `<html lang>` and the PDF catalogue's /Lang. */
  langTag: string;
  documentTitle: string;
  incident: string;
  title: string;
  generatedAt: string;
  windowFrom: string;
  windowTo: string;
  /** Shown where a recorded value is null or a list is empty. */
  none: string;
  noneRecorded: string;
  page: (n: number, of: number) => string;
  sections: { incident: string; scope: string; summary: string; accesses: string; grants: string; clocks: string; notifications: string; traces: string };
  /** The incident section: its status, origin, team, containment, sign-offs and close. */
  closure: {
    status: string;
    origin: string;
    originRequest: string;
    originOutcome: string;
    declaredBy: string;
    declaredAt: string;
    team: string;
    containedAt: string;
    signOffBy: string;
    signOffAt: string;
    signOffComment: string;
    closedBy: string;
    closedAt: string;
  };
  codes: ReportCodeWords;
  scope: { patients: string; studies: string; users: string; affectedPatients: string; affectedStudies: string };
  summary: { served: string; refused: string; distinctUsers: string; grants: string; breakGlass: string };
  access: {
    at: string;
    user: string;
    grant: string;
    approvers: string;
    purpose: string;
    patient: string;
    object: string;
    study: string;
    series: string;
    instance: string;
    route: string;
    outcome: string;
    bytes: string;
    clientIp: string;
    gateway: string;
    servingId: string;
    /** The words that mark a break-glass access: never a colour alone. */
    breakGlass: string;
  };
  grant: {
    grantId: string;
    requester: string;
    kind: string;
    purpose: string;
    justification: string;
    approvers: string;
    status: string;
    activatedAt: string;
    endedAt: string;
  };
  clock: { clock: string; dueAt: string; status: string; doneAt: string; reminders: string; escalatedAt: string };
  notification: {
    id: string;
    audience: string;
    recipient: string;
    channel: string;
    subject: string;
    createdAt: string;
    transport: string;
    status: string;
    sentAt: string;
    /** Why there is no body column: the report schema leaves bodies out. */
    bodiesOmitted: string;
  };
  trace: {
    id: string;
    fileSha256: string;
    kind: string;
    tracedBy: string;
    tracedAt: string;
    matched: string;
    detail: string;
    noMatch: string;
    servingId: string;
    grant: string;
    user: string;
    occurredAt: string;
    study: string;
    instance: string;
  };
}

const en: ReportLabels = {
  langTag: 'en',
  documentTitle: 'Incident investigation report',
  incident: 'Incident',
  title: 'Title',
  generatedAt: 'Generated at (UTC)',
  windowFrom: 'Window from (UTC)',
  windowTo: 'Window to (UTC)',
  none: '—',
  noneRecorded: 'None recorded.',
  page: (n, of) => `Page ${n} of ${of}`,
  sections: {
    incident: 'Incident',
    scope: 'Scope, affected patients and studies',
    summary: 'Summary',
    accesses: 'Accesses',
    grants: 'Grants',
    clocks: 'Clocks',
    notifications: 'Notifications',
    traces: 'Leak traces',
  },
  closure: {
    status: 'Status',
    origin: 'Origin',
    originRequest: 'Break-glass request',
    originOutcome: 'Break-glass found, afterwards',
    declaredBy: 'Declared by',
    declaredAt: 'Declared at (UTC)',
    team: 'Incident team',
    containedAt: 'Contained at (UTC)',
    signOffBy: 'First sign-off by',
    signOffAt: 'First sign-off at (UTC)',
    signOffComment: 'First sign-off comment',
    closedBy: 'Closed by (both sign-offs)',
    closedAt: 'Closed at (UTC)',
  },
  codes: {
    incidentStatus: { OPEN: 'Open', CLOSED: 'Closed' },
    origin: { declared: 'Declared by a person', 'break-glass': 'Opened by a break-glass access' },
    retroStatus: { PENDING: 'Pending', JUSTIFIED: 'Justified', UNJUSTIFIED: 'Not justified', UNREVIEWED: 'Not reviewed in time' },
    outcome: { served: 'Served', refused: 'Refused' },
    requestKind: { review: 'Reviewed request', 'break-glass': 'Break-glass (emergency access)' },
    requestStatus: {
      PENDING_REVIEW: 'Pending review',
      ACTIVE: 'Active',
      EXPIRED: 'Expired',
      REVOKED: 'Revoked',
      DENIED: 'Denied',
      TIMED_OUT: 'Timed out',
      CANCELLED: 'Cancelled',
      FAILED: 'Failed',
    },
    purpose: {
      TREAT: 'Treatment',
      COC: 'Consultation (coordination of care)',
      HRESCH: 'Healthcare research',
      TRAIN: 'Teaching (training)',
      HQUALIMP: 'Quality review (health quality improvement)',
      BTG: 'Break the glass (emergency)',
    },
    clock: {
      team: 'Team assembled',
      containment: 'Containment',
      regulator: 'Regulator notified',
      individuals: 'Individuals notified',
      individualsOuter: "Individuals: HIPAA's 60-day outer bound",
    },
    clockStatus: { RUNNING: 'Running', MET: 'Met', MISSED: 'Missed', NOT_NEEDED: 'Not needed' },
    audience: { regulator: 'Regulator', individuals: 'Individual', team: 'Incident team', escalation: 'Escalation' },
    channel: { email: 'E-mail', letter: 'Letter', sms: 'SMS', app: 'Patient app' },
    transport: { outbox: 'Outbox (hospital service)', smtp: 'E-mail server (SMTP)' },
    notificationStatus: { QUEUED: 'Queued', SENT: 'Sent', FAILED: 'Failed' },
    traceKind: { rendered: 'Rendered image', dicom: 'DICOM file' },
  },
  scope: {
    patients: 'Patients in scope',
    studies: 'Studies in scope',
    users: 'Users in scope',
    affectedPatients: 'Affected patients',
    affectedStudies: 'Affected studies',
  },
  summary: {
    served: 'Accesses served',
    refused: 'Accesses refused',
    distinctUsers: 'Distinct users',
    grants: 'Grants',
    breakGlass: 'Break-glass accesses',
  },
  access: {
    at: 'Time (UTC)',
    user: 'User',
    grant: 'Grant',
    approvers: 'Approvers',
    purpose: 'Purpose of use',
    patient: 'Patient',
    object: 'Study / series / instance',
    study: 'study',
    series: 'series',
    instance: 'instance',
    route: 'Route',
    outcome: 'Outcome, reason',
    bytes: 'Bytes',
    clientIp: 'Client IP',
    gateway: 'Gateway',
    servingId: 'Serving id',
    breakGlass: 'BREAK-GLASS (emergency access)',
  },
  grant: {
    grantId: 'Grant',
    requester: 'Requester',
    kind: 'Kind',
    purpose: 'Purpose of use',
    justification: 'Justification',
    approvers: 'Approvers',
    status: 'Status',
    activatedAt: 'Activated at',
    endedAt: 'Ended at',
  },
  clock: { clock: 'Clock', dueAt: 'Due', status: 'Status', doneAt: 'Done at', reminders: 'Reminders sent', escalatedAt: 'Escalated at' },
  notification: {
    id: 'Notification',
    audience: 'Audience',
    recipient: 'Recipient',
    channel: 'Channel',
    subject: 'Subject',
    createdAt: 'Created at',
    transport: 'Transport',
    status: 'Status',
    sentAt: 'Sent at',
    bodiesOmitted: 'Notification bodies are not part of this report.',
  },
  trace: {
    id: 'Trace',
    fileSha256: 'File SHA-256',
    kind: 'Kind',
    tracedBy: 'Traced by',
    tracedAt: 'Traced at',
    matched: 'Matched serving',
    detail: 'Detail',
    noMatch: 'No confident match',
    servingId: 'serving',
    grant: 'grant',
    user: 'user',
    occurredAt: 'at',
    study: 'study',
    instance: 'instance',
  },
};

const zh: ReportLabels = {
  langTag: 'zh-Hans',
  documentTitle: '事件调查报告',
  incident: '事件',
  title: '标题',
  generatedAt: '生成时间（UTC）',
  windowFrom: '时间范围起（UTC）',
  windowTo: '时间范围止（UTC）',
  none: '—',
  noneRecorded: '无记录。',
  page: (n, of) => `第 ${n} 页，共 ${of} 页`,
  sections: {
    incident: '事件',
    scope: '范围、受影响的患者和检查',
    summary: '摘要',
    accesses: '访问记录',
    grants: '授权',
    clocks: '时限',
    notifications: '通知',
    traces: '泄露追踪',
  },
  closure: {
    status: '状态',
    origin: '来源',
    originRequest: '破窗访问申请',
    originOutcome: '破窗访问事后审核结果',
    declaredBy: '宣布人',
    declaredAt: '宣布时间（UTC）',
    team: '事件小组',
    containedAt: '控制时间（UTC）',
    signOffBy: '首位签署人',
    signOffAt: '首次签署时间（UTC）',
    signOffComment: '首次签署意见',
    closedBy: '关闭人（两位签署人）',
    closedAt: '关闭时间（UTC）',
  },
  codes: {
    incidentStatus: { OPEN: '处理中', CLOSED: '已关闭' },
    origin: { declared: '由人员宣布', 'break-glass': '由一次破窗访问触发' },
    retroStatus: { PENDING: '待审核', JUSTIFIED: '认定合理', UNJUSTIFIED: '认定不合理', UNREVIEWED: '未按时审核' },
    outcome: { served: '已放行', refused: '已拒绝' },
    requestKind: { review: '经审核的申请', 'break-glass': '破窗访问（紧急情况）' },
    requestStatus: {
      PENDING_REVIEW: '待审核',
      ACTIVE: '已生效',
      EXPIRED: '已过期',
      REVOKED: '已撤销',
      DENIED: '已拒绝',
      TIMED_OUT: '审核超时',
      CANCELLED: '已撤回',
      FAILED: '失败',
    },
    purpose: {
      TREAT: '治疗',
      COC: '会诊（协调诊疗）',
      HRESCH: '医学研究',
      TRAIN: '教学（培训）',
      HQUALIMP: '质量评审（医疗质量改进）',
      BTG: '破窗访问（紧急情况）',
    },
    clock: {
      team: '组建事件小组',
      containment: '控制',
      regulator: '通知监管机构',
      individuals: '通知当事人',
      individualsOuter: '当事人通知：HIPAA 60 天最终期限',
    },
    clockStatus: { RUNNING: '计时中', MET: '已按时完成', MISSED: '已超时', NOT_NEEDED: '无需执行' },
    audience: { regulator: '监管机构', individuals: '当事人', team: '事件小组', escalation: '升级' },
    channel: { email: '电子邮件', letter: '信函', sms: '短信', app: '患者应用' },
    transport: { outbox: '发件箱（医院服务）', smtp: '邮件服务器（SMTP）' },
    notificationStatus: { QUEUED: '排队中', SENT: '已发送', FAILED: '发送失败' },
    traceKind: { rendered: '渲染图像', dicom: 'DICOM 文件' },
  },
  scope: {
    patients: '范围内的患者',
    studies: '范围内的检查',
    users: '范围内的用户',
    affectedPatients: '受影响的患者',
    affectedStudies: '受影响的检查',
  },
  summary: {
    served: '已提供的访问',
    refused: '被拒绝的访问',
    distinctUsers: '不同用户数',
    grants: '授权数',
    breakGlass: '紧急（破窗）访问',
  },
  access: {
    at: '时间（UTC）',
    user: '用户',
    grant: '授权',
    approvers: '批准人',
    purpose: '使用目的',
    patient: '患者',
    object: '检查 / 序列 / 实例',
    study: '检查',
    series: '序列',
    instance: '实例',
    route: '路由',
    outcome: '结果、原因',
    bytes: '字节数',
    clientIp: '客户端 IP',
    gateway: '网关',
    servingId: '服务编号',
    breakGlass: '紧急访问（破窗）',
  },
  grant: {
    grantId: '授权',
    requester: '申请人',
    kind: '类型',
    purpose: '使用目的',
    justification: '理由',
    approvers: '批准人',
    status: '状态',
    activatedAt: '生效时间',
    endedAt: '结束时间',
  },
  clock: { clock: '时限', dueAt: '截止时间', status: '状态', doneAt: '完成时间', reminders: '已发提醒', escalatedAt: '升级时间' },
  notification: {
    id: '通知',
    audience: '对象',
    recipient: '收件人',
    channel: '渠道',
    subject: '主题',
    createdAt: '创建时间',
    transport: '传输方式',
    status: '状态',
    sentAt: '发送时间',
    bodiesOmitted: '本报告不包含通知正文。',
  },
  trace: {
    id: '追踪',
    fileSha256: '文件 SHA-256',
    kind: '类型',
    tracedBy: '追踪人',
    tracedAt: '追踪时间',
    matched: '匹配的服务',
    detail: '详情',
    noMatch: '无可信匹配',
    servingId: '服务',
    grant: '授权',
    user: '用户',
    occurredAt: '时间',
    study: '检查',
    instance: '实例',
  },
};

export const REPORT_LABELS: Readonly<Record<ReportLang, ReportLabels>> = { en, zh };
