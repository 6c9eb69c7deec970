// The words of the printed investigation report, in each language it is printed in. Only the
// report's own headings and labels are translated: recorded values (usernames, statuses,
// outcomes, reasons) are evidence and are shown exactly as recorded.

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
  sections: { scope: string; summary: string; accesses: string; grants: string; clocks: string; notifications: string; traces: string };
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
    scope: 'Scope, affected patients and studies',
    summary: 'Summary',
    accesses: 'Accesses',
    grants: 'Grants',
    clocks: 'Clocks',
    notifications: 'Notifications',
    traces: 'Leak traces',
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
    scope: '范围、受影响的患者和检查',
    summary: '摘要',
    accesses: '访问记录',
    grants: '授权',
    clocks: '时限',
    notifications: '通知',
    traces: '泄露追踪',
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
