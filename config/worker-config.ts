import { z } from 'zod';
import { ConfigError, databaseEnv, logEnv, parseEnv, temporalEnv, temporalSettings, type TemporalSettings } from './env-pieces.js';

/**
 * The worker process's environment. It holds no keys and knows no identity provider: the
 * database, Temporal, and the background work it starts.
 */
const recipient = z.string().regex(/^[A-Za-z0-9._%+@-]{1,254}$/, 'an e-mail address or a mailbox name');

const workerEnv = {
  ...databaseEnv,
  ...temporalEnv,
  ...logEnv,
  /** How often closed cases' histories are copied into the database (at most hourly: the workflow sleeps no longer). */
  ARCHIVE_INTERVAL_SECONDS: z.coerce.number().min(1).max(3_600).default(30),
  /** The longest the audit chain's head goes unsigned while events arrive (cases closing sign sooner). */
  CHECKPOINT_INTERVAL_SECONDS: z.coerce.number().int().min(5).max(86_400).default(900),
  /** The syslog collector for DICOM audit messages: tcp://host:port or tls://host:port. */
  AUDIT_SYSLOG_URL: z
    .string()
    .regex(/^(tcp|tls):\/\/[^/]+:\d+$/, 'tcp://host:port or tls://host:port')
    .optional(),
  AUDIT_SYSLOG_CA_FILE: z.string().optional(),
  /** How often pending audit messages are looked for and sent. */
  AUDIT_FORWARD_INTERVAL_SECONDS: z.coerce.number().min(1).max(3_600).default(5),
  /** Where incident e-mail goes out: smtp://host:port or smtps://host:port; unset, everything stays in the outbox. */
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/([^/@\s]+@)?[^/@\s]+:\d+\/?$/, 'smtp://[user:pass@]host:port or smtps://…')
    .optional(),
  SMTP_FROM: z.string().email().default('imaging-access-review@localhost'),
  /** Who incident notifications go to: an e-mail address goes by SMTP, any other name waits in the outbox. */
  INCIDENT_REGULATOR_ADDRESS: recipient.default('supervisory-authority'),
  INCIDENT_TEAM_ADDRESS: recipient.default('security-office'),
  INCIDENT_ESCALATION_ADDRESS: recipient.default('escalation-contact'),
};

/** How often the checkpoint job looks at the chain: "within seconds of a case closing". */
const CHECKPOINT_POLL_MS = 5_000;

export interface WorkerConfig {
  databaseUrl: string;
  temporal: TemporalSettings;
  logLevel: string;
  /**
   * The background passes' intervals. Each pass run on this worker reports the next one's
   * interval from here, so a changed setting takes effect at the next pass; with workers of
   * different settings, the worker that ran the pass decides.
   */
  background: {
    archiveIntervalMs: number;
    checkpointPollMs: number;
    checkpointMaxUnsignedMs: number;
    forwardIntervalMs: number;
  };
  /** Where DICOM audit messages go; null: this worker neither starts nor serves audit forwarding. */
  auditSyslog: { url: string; caFile?: string } | null;
  /** Incident notifications: where they go, and the SMTP server that carries e-mail (null: outbox only). */
  incidents: IncidentNotificationSettings;
}

export interface IncidentNotificationSettings {
  smtp: { url: string; from: string } | null;
  regulator: string;
  team: string;
  escalation: string;
}

/** Reads and checks the worker's environment; fails closed on anything missing or malformed. */
export function loadWorkerConfig(source: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const env = parseEnv('worker', workerEnv, source);
  // A CA file says TLS was meant: sending in clear text instead would fail open.
  if (env.AUDIT_SYSLOG_CA_FILE && !env.AUDIT_SYSLOG_URL?.startsWith('tls://')) {
    throw new ConfigError('AUDIT_SYSLOG_CA_FILE is set, but AUDIT_SYSLOG_URL is not a tls:// collector.');
  }
  return {
    databaseUrl: env.DATABASE_URL,
    temporal: temporalSettings(env),
    logLevel: env.LOG_LEVEL,
    background: {
      archiveIntervalMs: env.ARCHIVE_INTERVAL_SECONDS * 1000,
      checkpointPollMs: CHECKPOINT_POLL_MS,
      checkpointMaxUnsignedMs: env.CHECKPOINT_INTERVAL_SECONDS * 1000,
      forwardIntervalMs: env.AUDIT_FORWARD_INTERVAL_SECONDS * 1000,
    },
    auditSyslog: env.AUDIT_SYSLOG_URL ? { url: env.AUDIT_SYSLOG_URL, caFile: env.AUDIT_SYSLOG_CA_FILE } : null,
    incidents: {
      smtp: env.SMTP_URL ? { url: env.SMTP_URL, from: env.SMTP_FROM } : null,
      regulator: env.INCIDENT_REGULATOR_ADDRESS,
      team: env.INCIDENT_TEAM_ADDRESS,
      escalation: env.INCIDENT_ESCALATION_ADDRESS,
    },
  };
}
