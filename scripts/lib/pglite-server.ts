import { PGlite } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import { PgliteSessionServer } from './pglite-session-server.js';

export interface EmbeddedPostgres {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * The zero-setup default: PGlite (PostgreSQL compiled to WebAssembly) with its data in a
 * folder, served over the PostgreSQL wire protocol on loopback so Prisma connects to it
 * exactly as to a real server. One session shared by every connection, one exchange or
 * transaction at a time: not for production.
 */
export async function startEmbeddedPostgres(options: { dataDir: string; port: number }): Promise<EmbeddedPostgres> {
  mkdirSync(options.dataDir, { recursive: true });
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
