import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';
import { pgConfigFromUrl } from './pg-config.js';

export type Db = PrismaClient;
export type DbTransaction = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

export function createDb(databaseUrl: string, options: { maxConnections?: number } = {}): Db {
  const adapter = new PrismaPg({ ...pgConfigFromUrl(databaseUrl), max: options.maxConnections ?? 10 });
  return new PrismaClient({ adapter });
}

/**
 * Runs `work` in one transaction. Generous timeouts: appenders queue on the audit chain's
 * head row, and the embedded server runs one transaction at a time.
 */
export function inTransaction<T>(db: Db, work: (tx: DbTransaction) => Promise<T>): Promise<T> {
  return db.$transaction(work, { maxWait: 20_000, timeout: 30_000 });
}
