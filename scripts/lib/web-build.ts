// The web app's build (vite build of web/ into web/dist), done only when its sources changed:
// `npm start` and the browser tests both call this, and a build takes seconds they need not wait.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WEB_DIR = path.join(root, 'web');
export const WEB_DIST_DIR = path.join(WEB_DIR, 'dist');
/** Written last, after a successful build: a half-built dist has none and is rebuilt. */
const STAMP = path.join(WEB_DIST_DIR, '.sources-sha256');

/** Everything a build reads: web/ except its output, the contracts and domain it imports, and the locked library versions. */
function sourceFiles(): string[] {
  const files: string[] = [path.join(root, 'package-lock.json')];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (full !== WEB_DIST_DIR && entry.name !== 'node_modules') walk(full);
      } else if (entry.isFile()) files.push(full);
    }
  };
  walk(WEB_DIR);
  walk(path.join(root, 'contracts'));
  walk(path.join(root, 'domain'));
  return files.sort();
}

/** A hash of the sources' names and contents (not mtimes: a checkout or a copy changes those). */
export function webSourcesHash(): string {
  // The build's kind is part of what it was built from: an older development build is redone.
  const hash = createHash('sha256').update('production build\0');
  for (const file of sourceFiles()) {
    hash.update(path.relative(root, file)).update('\0');
    hash.update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

export function webBuildIsCurrent(): boolean {
  return existsSync(STAMP) && statSync(STAMP).isFile() && readFileSync(STAMP, 'utf8').trim() === webSourcesHash();
}

/** Builds web/dist unless it is already built from these sources. Returns whether it built. */
export async function buildWebIfStale(): Promise<boolean> {
  if (!existsSync(path.join(WEB_DIR, 'index.html'))) throw new Error(`No web app to build: ${path.join(WEB_DIR, 'index.html')} is missing.`);
  const hash = webSourcesHash();
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === hash) return false;
  // Loaded only when needed: Vite is a build tool, and most starts do not build.
  const { build } = await import('vite');
  // Vite builds for whatever NODE_ENV says, and the test runner says "test": React's
  // development build would then be served, by the tests and by the next `npm start` alike.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      root: WEB_DIR,
      configFile: path.join(WEB_DIR, 'vite.config.ts'),
      mode: 'production',
      logLevel: 'warn',
      build: { outDir: WEB_DIST_DIR, emptyOutDir: true },
    });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  writeFileSync(STAMP, `${hash}\n`);
  return true;
}
