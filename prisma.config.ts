import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';
import { pgConfigFromUrl } from './db/pg-config.js';

// The adapter is built from the parsed URL rather than a connection string: with a
// connection string the shadow database connects to the main database instead.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  experimental: { adapter: true },
  engine: 'js',
  adapter: async () => new PrismaPg(pgConfigFromUrl(requireDatabaseUrl())),
});

function requireDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set');
  return url;
}
