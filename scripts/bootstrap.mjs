// Runs before `npm start` / `npm test` (npm's pre-scripts): installs dependencies and
// generates the Prisma client when they are missing or stale. Plain JavaScript on purpose:
// it runs before TypeScript tooling is installed.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const say = (message) => process.stderr.write(`[iar] ${message}\n`);
const mtime = (file) => (existsSync(file) ? statSync(file).mtimeMs : 0);

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 18)) {
  say(`Node.js ${process.versions.node} is too old: install Node.js 20.18 or newer.`);
  process.exit(1);
}

const installed = path.join(root, 'node_modules', '.package-lock.json');
if (!existsSync(installed) || mtime(path.join(root, 'package-lock.json')) > mtime(installed)) {
  say('installing dependencies (npm ci)...');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

const client = path.join(root, 'generated', 'prisma', 'client.ts');
if (mtime(path.join(root, 'prisma', 'schema.prisma')) > mtime(client)) {
  say('generating the Prisma client...');
  // generate reads DATABASE_URL from the schema but never connects.
  execFileSync('npx', ['prisma', 'generate'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DATABASE_URL: process.env.DATABASE_URL ?? 'postgresql://unused@127.0.0.1/unused' },
  });
}
