import { pino, type Logger } from 'pino';

/**
 * JSON logs. Tokens never belong in them (log a token's jti); the redaction is a second
 * line of defence for a field someone logs by mistake.
 */
export function createLogger(name: string, level = 'info'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['authorization', '*.authorization', 'access_token', '*.access_token', 'token', '*.token', 'patientId', '*.patientId'],
      censor: '[redacted]',
    },
  });
}
