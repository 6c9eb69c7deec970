import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, isPortOpen, startProcess, waitFor, type ManagedProcess } from '../../scripts/lib/processes.js';

/** A real rsyslog on loopback that writes each received message, raw, one per line. */
export class SyslogReceiver {
  private process?: ManagedProcess;
  readonly file: string;

  private constructor(
    private readonly dir: string,
    readonly port: number,
  ) {
    this.file = path.join(dir, 'received.log');
  }

  /** With `tls`, the receiver speaks RFC 5425 with that certificate (rsyslog-gnutls). */
  static async create(dir: string, tls?: { caFile: string; certFile: string; keyFile: string }): Promise<SyslogReceiver> {
    if (!existsSync('/usr/sbin/rsyslogd')) throw new Error('rsyslog is not installed (Debian: apt-get install rsyslog)');
    const receiver = new SyslogReceiver(dir, await freePort());
    writeFileSync(
      path.join(dir, 'rsyslog.conf'),
      [
        tls
          ? `global(workDirectory="${dir}" DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="${tls.caFile}" ` +
            `DefaultNetstreamDriverCertFile="${tls.certFile}" DefaultNetstreamDriverKeyFile="${tls.keyFile}")`
          : `global(workDirectory="${dir}")`,
        tls ? 'module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")' : 'module(load="imtcp")',
        `input(type="imtcp" port="${receiver.port}" address="127.0.0.1")`,
        'template(name="raw" type="string" string="%rawmsg%\\n")',
        `*.* action(type="omfile" file="${receiver.file}" template="raw" flushOnTXEnd="on" asyncWriting="off")`,
      ].join('\n'),
    );
    await receiver.start();
    return receiver;
  }

  async start(): Promise<void> {
    this.process = startProcess(
      'rsyslogd',
      '/usr/sbin/rsyslogd',
      ['-n', '-f', path.join(this.dir, 'rsyslog.conf'), '-i', path.join(this.dir, 'rsyslogd.pid')],
      {
        logFile: path.join(this.dir, 'rsyslogd.out'),
      },
    );
    await waitFor(`rsyslog on port ${this.port}`, () => isPortOpen(this.port), { process: this.process, timeoutMs: 20_000 });
  }

  async stop(): Promise<void> {
    await this.process?.stop('SIGTERM');
  }

  lines(): string[] {
    return existsSync(this.file) ? readFileSync(this.file, 'utf8').split('\n').filter(Boolean) : [];
  }
}
