import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';

/** facility 10 (security/authorization) × 8 + severity 5 (notice), as IHE ATNA uses. */
const PRI = 85;
const BOM = '\uFEFF';

/** One RFC 5424 message: header, no structured data, the XML audit message as MSG. */
export function rfc5424(message: string, at: Date, appName: string, msgId = 'IHE+RFC-3881'): string {
  const hostname =
    os
      .hostname()
      .replace(/[^\x21-\x7e]/g, '')
      .slice(0, 255) || '-';
  return `<${PRI}>1 ${at.toISOString()} ${hostname} ${appName} ${process.pid} ${msgId} - ${BOM}${message}`;
}

export interface SyslogTarget {
  /** tcp://host:port or tls://host:port */
  url: string;
  caFile?: string;
  timeoutMs?: number;
  /** How long the connection must stay up after a write for the batch to count as sent. */
  settleMs?: number;
}

/**
 * Sends syslog messages over TCP (RFC 6587) or TLS (RFC 5425), each framed by its octet
 * count. Syslog has no acknowledgements, so `send` resolves only when the socket has taken
 * every byte and the connection is still up a moment later; any failure closes the
 * connection and rejects, and the caller sends the batch again (at least once).
 */
export class SyslogSender {
  private socket?: net.Socket;

  constructor(private readonly target: SyslogTarget) {}

  private async connect(): Promise<net.Socket> {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const url = new URL(this.target.url);
    const port = Number(url.port || (url.protocol === 'tls:' ? 6514 : 514));
    const timeout = this.target.timeoutMs ?? 5_000;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s =
        url.protocol === 'tls:'
          ? tls.connect({ host: url.hostname, port, servername: url.hostname, ca: this.target.caFile ? readFileSync(this.target.caFile) : undefined }, () =>
              resolve(s),
            )
          : url.protocol === 'tcp:'
            ? net.connect({ host: url.hostname, port }, () => resolve(s))
            : (reject(new Error(`unsupported syslog transport ${url.protocol}`)) as never);
      s.setTimeout(timeout, () => s.destroy(new Error('syslog connection timed out')));
      s.once('error', reject);
    });
    socket.on('error', () => socket.destroy());
    // A collector that shuts down closes its end: what is written after that is lost, so
    // the connection is finished here and the next batch reconnects.
    socket.on('end', () => socket.destroy());
    this.socket = socket;
    return socket;
  }

  async send(messages: string[]): Promise<void> {
    if (messages.length === 0) return;
    const socket = await this.connect();
    const frames = messages.map((m) => {
      const bytes = Buffer.from(m, 'utf8');
      return Buffer.concat([Buffer.from(`${bytes.length} `), bytes]);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.write(Buffer.concat(frames), (error) => {
        socket.off('error', reject);
        if (error) {
          socket.destroy();
          reject(error);
        } else resolve();
      });
    });
    await new Promise((r) => setTimeout(r, this.target.settleMs ?? 200));
    if (socket.destroyed) throw new Error('the syslog collector closed the connection');
  }

  close(): void {
    this.socket?.end();
    this.socket = undefined;
  }
}
