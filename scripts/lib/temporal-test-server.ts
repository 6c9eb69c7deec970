import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from './processes.js';
import { SetupError, step } from './progress.js';

// Temporal's Java test server is the only server that skips time: the workflow tests use it
// so that a 24-hour review window or an 8-hour grant passes in milliseconds. It is published
// on Maven Central only as a jar with dependencies, so Maven resolves them once into a
// cache outside the checkout; after that no network is needed.
export const TEMPORAL_TEST_SERVER_VERSION = '1.38.0';
const MAIN_CLASS = 'io.temporal.testserver.TestServer';

export function testServerCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return path.join(base, 'imaging-access-review', 'temporal-test-server', TEMPORAL_TEST_SERVER_VERSION);
}

async function answers(command: string, args: string[]): Promise<boolean> {
  try {
    await run(command, args);
    return true;
  } catch {
    return false;
  }
}

/**
 * An executable that runs the test server with the arguments the SDK passes
 * (`<port> --enable-time-skipping`), fetching its jars on the first call.
 */
export async function findOrFetchTemporalTestServer(): Promise<string> {
  const dir = testServerCacheDir();
  const lib = path.join(dir, 'lib');
  const launcher = path.join(dir, 'temporal-test-server');
  if (!(await answers('java', ['-version']))) {
    throw new SetupError('The workflow tests need Java (>= 11) on PATH to run Temporal’s test server, e.g. `apt-get install openjdk-17-jre-headless`.');
  }
  // The launcher is written last, so its presence means the jars are complete.
  if (!existsSync(launcher)) {
    await fetchJars(dir, lib);
    writeFileSync(launcher, `#!/bin/sh\nexec java -cp '${lib}/*' ${MAIN_CLASS} "$@"\n`);
    chmodSync(launcher, 0o755);
    step(`Temporal test server ready: ${launcher}`);
  }
  return launcher;
}

async function fetchJars(dir: string, lib: string): Promise<void> {
  if (!(await answers('mvn', ['-v']))) {
    throw new SetupError(
      `The Temporal test server ${TEMPORAL_TEST_SERVER_VERSION} is not cached in ${dir} and there is no Maven to fetch it: ` +
        'install Maven (`apt-get install maven`).',
    );
  }
  mkdirSync(dir, { recursive: true });
  step(`fetching the Temporal test server ${TEMPORAL_TEST_SERVER_VERSION} and its dependencies with Maven (first run only)...`);
  const pom = path.join(dir, 'pom.xml');
  writeFileSync(
    pom,
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>imaging-access-review</groupId>
  <artifactId>temporal-test-server-launcher</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>${TEMPORAL_TEST_SERVER_VERSION}</version>
    </dependency>
    <!-- The server logs through SLF4J and, without a binding, warns about that on every start. -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-nop</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
`,
  );
  // Into a fresh folder, then renamed: a run cut short leaves nothing that looks complete.
  const partial = `${lib}.partial`;
  rmSync(partial, { recursive: true, force: true });
  const ticker = setInterval(() => step('  still fetching the Temporal test server...'), 20_000);
  try {
    await run('mvn', ['-B', '-q', '-f', pom, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${partial}`]);
  } catch (error) {
    throw new SetupError(`Fetching the Temporal test server with Maven failed: ${(error as Error).message}`);
  } finally {
    clearInterval(ticker);
  }
  const jars = readdirSync(partial).filter((name) => name.endsWith('.jar'));
  if (!jars.includes(`temporal-test-server-${TEMPORAL_TEST_SERVER_VERSION}.jar`))
    throw new SetupError(`Maven did not fetch the Temporal test server into ${partial}.`);
  rmSync(lib, { recursive: true, force: true });
  renameSync(partial, lib);
  step(`  ${jars.length} jars in ${lib}`);
}
