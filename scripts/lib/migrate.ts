import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './processes.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Applies pending migrations with `prisma migrate deploy` (no shadow database, no engine download). */
export async function migrate(databaseUrl: string): Promise<void> {
  await run(path.join(root, 'node_modules', '.bin', 'prisma'), ['migrate', 'deploy'], { cwd: root, env: { ...process.env, DATABASE_URL: databaseUrl } });
}
