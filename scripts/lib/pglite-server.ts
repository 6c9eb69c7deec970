import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { mkdirSync } from 'node:fs';

export interface EmbeddedPostgres {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * The zero-setup default: PGlite (PostgreSQL compiled to WebAssembly) with its data in a
 * folder, served over the PostgreSQL wire protocol on loopback so Prisma connects to it
 * exactly as to a real server. One process, one transaction at a time: not for production.
 */
export async function startEmbeddedPostgres(options: { dataDir: string; port: number }): Promise<EmbeddedPostgres> {
  mkdirSync(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: options.port, maxConnections: 100 });
  await server.start();
  return {
    url: `postgresql://postgres@127.0.0.1:${options.port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
