import { PGlite } from '@electric-sql/pglite';
import fs, { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PgliteSessionServer } from './pglite-session-server.js';

export interface EmbeddedPostgres {
  readonly url: string;
  stop(): Promise<void>;
}

const privateDirs = new Set<string>();

/**
 * PGlite's file system (Emscripten's NODEFS) chmods every file it makes to 0666 (or 0644),
 * which the umask does not reach. Within `dir`, chmod keeps group and others out.
 */
function keepPrivate(dir: string): void {
  if (privateDirs.size === 0) {
    const chmodSync = fs.chmodSync;
    fs.chmodSync = (file, mode) => {
      const inside = [...privateDirs].some((d) => path.resolve(String(file)).startsWith(d + path.sep));
      chmodSync(file, inside && typeof mode === 'number' ? mode & 0o700 : mode);
    };
  }
  privateDirs.add(path.resolve(dir));
}

/**
 * The zero-setup default: PGlite (PostgreSQL compiled to WebAssembly) with its data in a
 * folder, served over the PostgreSQL wire protocol on loopback so Prisma connects to it
 * exactly as to a real server. One session shared by every connection, one exchange or
 * transaction at a time: not for production.
 */
export async function startEmbeddedPostgres(options: { dataDir: string; port: number }): Promise<EmbeddedPostgres> {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  keepPrivate(options.dataDir);
  const db = await PGlite.create(options.dataDir);
  const server = new PgliteSessionServer({ db, host: '127.0.0.1', port: options.port, maxConnections: 100 });
  const port = await server.start();
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
