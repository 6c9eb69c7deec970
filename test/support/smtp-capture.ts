import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';

// A real SMTP server for the tests (smtp-server, the library nodemailer's authors keep):
// the worker's SMTP sender talks to it over TCP, and each message it accepts is written to a
// directory as it arrived, for the tests to read.

export interface SmtpCapture {
  port: number;
  dir: string;
  close(): Promise<void>;
}

export async function startSmtpCapture(dir: string): Promise<SmtpCapture> {
  mkdirSync(dir, { recursive: true });
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const envelope = `X-Envelope-To: ${session.envelope.rcptTo.map((r) => r.address).join(', ')}\r\n`;
        received += 1;
        writeFileSync(path.join(dir, `${Date.now()}-${received}.eml`), Buffer.concat([Buffer.from(envelope), ...chunks]));
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as { port: number }).port;
  return { port, dir, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface CapturedMail {
  to: string;
  subject: string;
  raw: string;
}

/** The messages the capture server has accepted so far, oldest first. */
export function capturedMail(dir: string): CapturedMail[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort((a, b) => Number(a.split('-')[0]) - Number(b.split('-')[0]) || a.localeCompare(b))
    .map((f) => {
      const raw = readFileSync(path.join(dir, f), 'utf8');
      const header = (name: string) => new RegExp(`^${name}: (.*(?:\\r?\\n[ \\t].*)*)`, 'mi').exec(raw)?.[1]?.replace(/\r?\n[ \t]+/g, ' ') ?? '';
      return { to: header('X-Envelope-To'), subject: header('Subject'), raw };
    });
}
