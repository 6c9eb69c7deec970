import { existsSync, mkdirSync, readdirSync, chownSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, startProcess, waitFor, isPortOpen, type ManagedProcess } from './processes.js';
import { SetupError, step } from './progress.js';

export interface PostgresServer {
  readonly url: string;
  readonly process: ManagedProcess;
}

/** Debian keeps server binaries outside PATH, one folder per major version. */
function findPostgresBin(): string {
  const named = process.env.POSTGRES_BIN_DIR;
  if (named) return named;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')));
    versions.sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(root, versions[0], 'bin');
  }
  throw new SetupError(
    'No PostgreSQL server found. Install it (Debian: `apt-get install postgresql`), set POSTGRES_BIN_DIR to ' +
      'the folder holding initdb and postgres, or set DATABASE_URL to a server you run.',
  );
}

/** PostgreSQL refuses to run as root; as root we run it as the `postgres` system user. */
function asServerUser(command: string, args: string[]): [string, string[]] {
  if (process.getuid?.() === 0) return ['runuser', ['-u', 'postgres', '--', command, ...args]];
  return [command, args];
}

/**
 * A private PostgreSQL cluster in `dataDir`, on loopback, trust auth for the local user:
 * a throw-away server for tests, separate from any system cluster.
 */
export async function startPrivatePostgres(options: {
  dataDir: string;
  port: number;
  logFile: string;
  /** Keeps PostgreSQL's durability settings (`npm run start:cluster`); without it, a throw-away server traded for speed. */
  durable?: boolean;
  /**
   * The `iar` superuser's password, asked of every connection (scram-sha-256), set when the
   * cluster is made. Without it, any local user may connect: for throw-away test servers only.
   */
  password?: string;
}): Promise<PostgresServer> {
  const bin = findPostgresBin();
  const root = process.getuid?.() === 0;
  if (!existsSync(path.join(options.dataDir, 'PG_VERSION'))) {
    mkdirSync(options.dataDir, { recursive: true });
    if (root) {
      const { uid, gid } = await postgresIds();
      chownSync(options.dataDir, uid, gid);
    }
    step('initialising a private PostgreSQL cluster...');
    const auth = options.password === undefined ? ['--auth=trust'] : ['--auth=scram-sha-256', `--pwfile=${await passwordFile(options.password, root)}`];
    try {
      const [cmd, args] = asServerUser(path.join(bin, 'initdb'), [
        '-D',
        options.dataDir,
        '-U',
        'iar',
        ...auth,
        '-E',
        'UTF8',
        ...(options.durable ? [] : ['--no-sync']),
      ]);
      await run(cmd, args);
    } finally {
      rmSync(PASSWORD_DIR, { recursive: true, force: true });
    }
    writeFileSync(path.join(options.dataDir, 'postgresql.auto.conf'), "listen_addresses = '127.0.0.1'\nunix_socket_directories = ''\n", { flag: 'a' });
  }
  // A throw-away test server: durability traded for speed.
  const throwAway = ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];
  const [cmd, args] = asServerUser(path.join(bin, 'postgres'), [
    '-D',
    options.dataDir,
    '-p',
    String(options.port),
    ...(options.durable ? [] : throwAway),
    '-c',
    'max_connections=200',
  ]);
  const proc = startProcess('postgres', cmd, args, { logFile: options.logFile });
  await waitFor(`PostgreSQL on port ${options.port} (log: ${options.logFile})`, () => isPortOpen(options.port), { process: proc, timeoutMs: 60_000 });
  const credentials = options.password === undefined ? 'iar' : `iar:${encodeURIComponent(options.password)}`;
  return { url: `postgresql://${credentials}@127.0.0.1:${options.port}/postgres`, process: proc };
}

const PASSWORD_DIR = path.join(os.tmpdir(), `iar-initdb-${process.pid}`);

/** initdb reads the first password from a file: one the server's user alone can read, removed after. */
async function passwordFile(password: string, root: boolean): Promise<string> {
  mkdirSync(PASSWORD_DIR, { mode: 0o700 });
  const file = path.join(PASSWORD_DIR, 'password');
  writeFileSync(file, password, { mode: 0o600 });
  if (root) {
    const { uid, gid } = await postgresIds();
    chownSync(PASSWORD_DIR, uid, gid);
    chownSync(file, uid, gid);
  }
  return file;
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  try {
    const uid = (await run('id', ['-u', 'postgres'])).trim();
    const gid = (await run('id', ['-g', 'postgres'])).trim();
    if (!/^\d+$/.test(uid) || !/^\d+$/.test(gid)) throw new Error(`unexpected id output: ${uid}:${gid}`);
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    throw new SetupError('Running as root, but there is no `postgres` system user to run PostgreSQL as (apt-get install postgresql creates it).');
  }
}
