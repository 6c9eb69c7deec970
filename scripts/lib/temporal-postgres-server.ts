import { Connection } from '@temporalio/client';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { goInstall, hasGo } from './go-install.js';
import { findOrBuildTemporalCli } from './temporal-cli.js';
import { freePort, freePortBelow, run, startProcess, waitFor, type ManagedProcess } from './processes.js';
import { SetupError, step } from './progress.js';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes.js';

// The Temporal server itself (not the CLI's dev server) with PostgreSQL persistence: what a
// hospital runs, on one machine. Built from the Go module proxy: at this tag the module has
// no `replace` directive, so `go install` takes it (../shared/platform.md).
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const MODULE = 'go.temporal.io/server';

export interface TemporalServerBinaries {
  /** The server (`cmd/server`). */
  server: string;
  /** temporal-sql-tool (`cmd/tools/sql`): creates the databases and applies the schema. */
  sqlTool: string;
  /** The module's source, for its PostgreSQL schema folders. */
  moduleDir: string;
}

export interface TemporalPostgresServer {
  readonly address: string;
  readonly process: ManagedProcess;
  /** The two databases it keeps its state in, on the PostgreSQL server it was given. */
  readonly databases: { history: string; visibility: string };
}

function serverCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return path.join(base, 'imaging-access-review', 'temporal-server', TEMPORAL_SERVER_VERSION);
}

/** The server and its SQL tool from the cache, built once with Go when missing. */
export async function findOrBuildTemporalServer(): Promise<TemporalServerBinaries> {
  if (!(await hasGo())) {
    throw new SetupError(`The Temporal server ${TEMPORAL_SERVER_VERSION} is built with Go (>= 1.24), and no \`go\` is on PATH.`);
  }
  const dir = serverCacheDir();
  const server = path.join(dir, 'server');
  const sqlTool = path.join(dir, 'sql');
  if (!existsSync(server) || !existsSync(sqlTool)) {
    // Into a folder of this build's own, then renamed into place: two builds at once (two
    // test files on a fresh machine) never leave, or run, a half-written binary.
    const building = `${dir}.building-${process.pid}`;
    mkdirSync(building, { recursive: true });
    step(`building the Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool with Go (first run only; several minutes)...`);
    await goInstall(
      [`${MODULE}/cmd/server@${TEMPORAL_SERVER_VERSION}`, `${MODULE}/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`],
      building,
      `the Temporal server ${TEMPORAL_SERVER_VERSION}`,
    );
    mkdirSync(dir, { recursive: true });
    renameSync(path.join(building, 'sql'), sqlTool);
    renameSync(path.join(building, 'server'), server);
    rmSync(building, { recursive: true, force: true });
  }
  // The schema ships in the module's source; `go mod download` names its folder (and fetches
  // it again if the module cache was cleaned since the build).
  const { Dir: moduleDir } = JSON.parse(await run('go', ['mod', 'download', '-json', `${MODULE}@${TEMPORAL_SERVER_VERSION}`])) as { Dir: string };
  return { server, sqlTool, moduleDir };
}

/**
 * Creates (or brings up to date) the server's two databases on the PostgreSQL server that
 * `adminUrl` names, writes a configuration in `dir`, starts the server on loopback with its
 * frontend on `port`, and registers the `default` namespace and the search attributes.
 */
export async function startTemporalOnPostgres(options: {
  binaries: TemporalServerBinaries;
  adminUrl: string;
  /** Prefix of the two databases' names: `<prefix>temporal` and `<prefix>temporal_visibility`. */
  databasePrefix: string;
  dir: string;
  port: number;
  logFile: string;
}): Promise<TemporalPostgresServer> {
  const pg = new URL(options.adminUrl);
  const databases = { history: `${options.databasePrefix}temporal`, visibility: `${options.databasePrefix}temporal_visibility` };
  const connection = ['--plugin', 'postgres12', '--ep', pg.hostname, '-p', pg.port || '5432', '-u', decodeURIComponent(pg.username)];
  // The password through the environment, not the command line, which every local user can read.
  const toolEnv = { ...process.env, SQL_PASSWORD: decodeURIComponent(pg.password) };
  const schemaRoot = path.join(options.binaries.moduleDir, 'schema', 'postgresql', 'v12');
  for (const [database, schema] of [
    [databases.history, 'temporal'],
    [databases.visibility, 'visibility'],
  ] as const) {
    step(`preparing the Temporal database ${database}...`);
    const tool = (...args: string[]) => run(options.binaries.sqlTool, [...connection, '--db', database, ...args], { env: toolEnv });
    // Each step is a no-op on a database that already has it: a restart keeps its state.
    await tool('create-database').catch((error: Error) => {
      if (!/database ".*" already exists/.test(error.message)) throw error;
    });
    await tool('setup-schema', '-v', '0.0').catch((error: Error) => {
      if (!/relation "schema_version" already exists/.test(error.message)) throw error;
    });
    await tool('update-schema', '-d', path.join(schemaRoot, schema, 'versioned'));
  }

  const configDir = path.join(options.dir, 'config');
  mkdirSync(path.join(configDir, 'dynamicconfig'), { recursive: true });
  writeFileSync(path.join(configDir, 'dynamicconfig', 'iar.yaml'), DYNAMIC_CONFIG);
  // It holds the database password: this user's alone.
  writeFileSync(path.join(configDir, 'iar.yaml'), await serverConfig(pg, databases, options.port, configDir), { mode: 0o600 });
  const proc = startProcess(
    'temporal server (PostgreSQL)',
    options.binaries.server,
    ['--root', options.dir, '--config', 'config', '--env', 'iar', '--allow-no-auth', 'start'],
    {
      cwd: options.dir,
      logFile: options.logFile,
    },
  );
  const address = `127.0.0.1:${options.port}`;
  step(`waiting for the Temporal server on ${address} (PostgreSQL)...`);
  const cli = await findOrBuildTemporalCli();
  await waitFor(`the Temporal server on ${address} (log: ${options.logFile})`, () => ensureNamespace(cli, address), {
    timeoutMs: 180_000,
    intervalMs: 1000,
    process: proc,
  });
  return { address, process: proc, databases };
}

/**
 * The `default` namespace with the search attributes the workflows set, made with the
 * Temporal CLI's operator commands; true once the namespace is usable.
 */
async function ensureNamespace(cli: string, address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  await connection.close();
  const operator = (...args: string[]) => run(cli, ['operator', ...args, '--address', address]);
  const exists = await operator('namespace', 'describe', '--namespace', 'default').then(
    () => true,
    () => false,
  );
  if (!exists) {
    await operator('namespace', 'create', '--namespace', 'default', '--retention', '168h').catch((error: Error) => {
      if (!/already/i.test(error.message)) throw error;
    });
    return false;
  }
  const listed = JSON.parse(await operator('search-attribute', 'list', '--namespace', 'default', '--output', 'json')) as {
    customAttributes?: Record<string, unknown>;
  };
  const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !listed.customAttributes?.[name]);
  for (const [name, type] of missing) await operator('search-attribute', 'create', '--namespace', 'default', '--name', name, '--type', type);
  return missing.length === 0;
}

/** What the workflows need beyond the defaults: Updates (reviews) and update-with-start. */
const DYNAMIC_CONFIG = `frontend.enableUpdateWorkflowExecution:
  - value: true
frontend.enableUpdateWorkflowExecutionAsyncAccepted:
  - value: true
frontend.enableExecuteMultiOperation:
  - value: true
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
    constraints: {}
`;

/** The server's configuration: one process with all four services, each on its own loopback ports. */
async function serverConfig(pg: URL, databases: { history: string; visibility: string }, frontendPort: number, configDir: string): Promise<string> {
  // Membership ports are kept in a smallint column: below 32768, and below the range the
  // tests pick their quiet ports from (20000 on).
  const [frontendMembership, matchingMembership, historyMembership, workerMembership] = await distinctPorts(4, () => freePortBelow(20_000, 10_000));
  const [frontendHttp, matching, history, worker] = await distinctPorts(4, freePort, [frontendPort]);
  const store = (database: string, maxConns: number) => `      sql:
        pluginName: "postgres12"
        databaseName: "${database}"
        connectAddr: "${pg.hostname}:${pg.port || '5432'}"
        connectProtocol: "tcp"
        user: ${JSON.stringify(decodeURIComponent(pg.username))}
        password: ${JSON.stringify(decodeURIComponent(pg.password))}
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
  return `log:
  stdout: true
  level: warn

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
${store(databases.history, 20)}
    postgres-visibility:
${store(databases.visibility, 4)}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"

services:
  frontend:
    rpc:
      grpcPort: ${frontendPort}
      membershipPort: ${frontendMembership}
      bindOnLocalHost: true
      httpPort: ${frontendHttp}
  matching:
    rpc:
      grpcPort: ${matching}
      membershipPort: ${matchingMembership}
      bindOnLocalHost: true
  history:
    rpc:
      grpcPort: ${history}
      membershipPort: ${historyMembership}
      bindOnLocalHost: true
  worker:
    rpc:
      grpcPort: ${worker}
      membershipPort: ${workerMembership}
      bindOnLocalHost: true

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${frontendPort}"

dcRedirectionPolicy:
  policy: "noop"

dynamicConfigClient:
  filepath: "${path.join(configDir, 'dynamicconfig', 'iar.yaml')}"
  pollInterval: "10s"
`;
}

async function distinctPorts(count: number, pick: () => Promise<number>, taken: number[] = []): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    const port = await pick();
    if (!taken.includes(port)) ports.add(port);
  }
  return [...ports];
}
