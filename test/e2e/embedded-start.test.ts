import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { GATEWAY_NODE_FLAGS } from '../../gateway/node-flags.js';
import { ROOT, scratchDir } from '../../scripts/lib/ephemeral-servers.js';
import { backgroundWorkflowId, type BackgroundJob } from '../../workflows/background-jobs.js';

// `npm start` as a user runs it: the embedded PGlite database, its own Temporal dev server
// with a SQLite file, the worker, the API, Orthanc with synthetic studies and the PACS
// gateway, all in a fresh data folder.
const dataDir = scratchDir('iar-embedded-');
let running: { child: ChildProcess; output: () => string } | undefined;

async function start(ports: Record<string, string>): Promise<{ child: ChildProcess; output: () => string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, IAR_DATA_DIR: dataDir, ...ports, LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.TEMPORAL_ADDRESS;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'start.ts')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (output.includes('Imaging access review is running.')) {
        clearInterval(timer);
        resolve();
      }
    }, 200);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`npm start exited with ${code}:\n${output}`));
    });
  });
  return { child, output: () => output };
}

/** Every file and folder under `dir` that its group or others may use, with its mode. */
function openToOthers(dir: string): string[] {
  const stat = lstatSync(dir);
  const found = !stat.isSymbolicLink() && (stat.mode & 0o077) !== 0 ? [`${dir} ${(stat.mode & 0o777).toString(8)}`] : [];
  if (stat.isDirectory()) for (const entry of readdirSync(dir)) found.push(...openToOthers(path.join(dir, entry)));
  return found;
}

/** Ctrl-C, as a terminal sends it, and the exit code. */
async function interrupt(run: { child: ChildProcess }): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => run.child.once('exit', (code) => resolve(code)));
  run.child.kill('SIGINT');
  return exited;
}

/**
 * The background workflows as the Temporal server has them: each job's running runs, and
 * how many checkpoints the API signed for the checkpoint workflow.
 */
async function backgroundWork(temporalPort: string): Promise<{ running: Record<BackgroundJob, number>; checkpointsSigned: number }> {
  const connection = await Connection.connect({ address: `127.0.0.1:${temporalPort}` });
  try {
    const client = new Client({ connection });
    const running = {} as Record<BackgroundJob, number>;
    for (const job of ['history-archive', 'audit-checkpoint', 'audit-forwarding'] as const) {
      running[job] = 0;
      const query = `WorkflowId = '${backgroundWorkflowId(job, 'access-requests')}' AND ExecutionStatus = 'Running'`;
      for await (const _ of client.workflow.list({ query })) running[job] += 1;
    }
    const history = await client.workflow.getHandle(backgroundWorkflowId('audit-checkpoint', 'access-requests')).fetchHistory();
    const signing = new Set(
      (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'signAuditCheckpoint').map((e) => String(e.eventId)),
    );
    const checkpointsSigned = (history.events ?? []).filter((e) => signing.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId))).length;
    return { running, checkpointsSigned };
  } finally {
    await connection.close();
  }
}

afterAll(async () => {
  if (running && running.child.exitCode === null) await interrupt(running);
});

/**
 * A free port below the kernel's ephemeral range (32768–60999 by default). `npm start` binds
 * its ports many seconds after they are chosen; a port from the ephemeral range (freePort)
 * can meanwhile be taken by any outgoing connection or by another test file's server, and
 * was. Ports below it are taken only by explicit binds.
 */
async function quietPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (chosen.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) {
      chosen.add(port);
      return port;
    }
  }
}
const chosen = new Set<number>();

/** The command line of the gateway process that `npm start` runs on `port`, from /proc. */
function gatewayCommandLine(port: string): string[] | undefined {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!args.some((arg) => arg.endsWith(path.join('gateway', 'main.ts')))) continue;
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`GATEWAY_PORT=${port}`)) return args;
    } catch {
      // gone since listed, or not this user's
    }
  }
  return undefined;
}

describe('npm start on the embedded defaults', () => {
  it('runs the whole cycle, stops cleanly on Ctrl-C, and keeps its data across a restart', async () => {
    const ports = {
      API_PORT: String(await quietPort()),
      TEMPORAL_PORT: String(await quietPort()),
      TEMPORAL_UI_PORT: String(await quietPort()),
      PGLITE_PORT: String(await quietPort()),
      GATEWAY_PORT: String(await quietPort()),
      ORTHANC_PORT: String(await quietPort()),
    };
    const gateway = `http://127.0.0.1:${ports.GATEWAY_PORT}`;
    const study = '1.2.826.0.1.3680043.8.498.1';
    const openThroughGateway = async (pacsToken: string) => {
      const series = await fetch(`${gateway}/dicom-web/studies/${study}/series`, { headers: { authorization: `Bearer ${pacsToken}` } });
      expect(series.status).toBe(200);
      expect(((await series.json()) as unknown[]).length).toBe(2);
      const rendered = await fetch(`${gateway}/dicom-web/studies/${study}/series/${study}.1/instances/${study}.1.1/rendered`, {
        headers: { authorization: `Bearer ${pacsToken}` },
      });
      expect(rendered.headers.get('content-type')).toBe('image/jpeg');
      const elsewhere = await fetch(`${gateway}/dicom-web/studies/1.2.826.0.1.3680043.8.498.3/series`, { headers: { authorization: `Bearer ${pacsToken}` } });
      expect(elsewhere.status).toBe(403);
      // Orthanc itself is not open without its credentials.
      expect((await fetch(`http://127.0.0.1:${ports.ORTHANC_PORT}/patients`)).status).toBe(401);
    };
    const api = `http://127.0.0.1:${ports.API_PORT}`;
    const post = async (route: string, token: string | undefined, body?: unknown) => {
      const response = await fetch(`${api}${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body ?? {}),
      });
      return { status: response.status, body: await response.json() };
    };
    const login = async (username: string) => (await post('/auth/dev-login', undefined, { username })).body.access_token as string;

    // A data folder as an earlier version left it: readable by everyone.
    chmodSync(dataDir, 0o755);
    mkdirSync(path.join(dataDir, 'logs'), { recursive: true, mode: 0o755 });
    writeFileSync(path.join(dataDir, 'logs', 'api.log'), 'from an earlier run\n', { mode: 0o644 });
    chmodSync(path.join(dataDir, 'logs', 'api.log'), 0o644);

    running = await start(ports);
    expect(running.output()).toContain('clin.alice');
    // The gateway runs with its node flags (gateway/node-flags.ts): without them it spends a
    // third of its CPU collecting garbage under load.
    expect(gatewayCommandLine(ports.GATEWAY_PORT)).toEqual(expect.arrayContaining([...GATEWAY_NODE_FLAGS]));
    expect(running.output()).toContain(`Temporal Web UI:  http://127.0.0.1:${ports.TEMPORAL_UI_PORT}`);
    expect((await fetch(`http://127.0.0.1:${ports.TEMPORAL_UI_PORT}/`)).status).toBe(200);

    const alice = await login('clin.alice');
    const submitted = await post('/api/access-requests', alice, {
      studyInstanceUids: [study],
      patientId: 'SYN-0001',
      purposeOfUse: 'TREAT',
      justification: 'Follow-up of a suspected fracture',
      durationMinutes: 60,
    });
    expect(submitted.status).toBe(201);
    const id = submitted.body.id;
    expect((await post(`/api/access-requests/${id}/reviews`, await login('sup.carol'), { decision: 'approve' })).body.status).toBe('PENDING_REVIEW');
    expect((await post(`/api/access-requests/${id}/reviews`, await login('priv.dave'), { decision: 'approve' })).body.status).toBe('ACTIVE');
    const token = await post(`/api/access-requests/${id}/tokens`, alice);
    expect(token.status).toBe(201);
    await jwtVerify(token.body.access_token, createRemoteJWKSet(new URL(`${api}/.well-known/jwks.json`)), {
      issuer: api,
      audience: 'iar-pacs-gateway',
      algorithms: ['ES256'],
    });
    await openThroughGateway(token.body.access_token);
    // The database, Temporal's SQLite file, Orthanc's storage, logs, journals and keys: all this user's alone.
    expect(openToOthers(dataDir)).toEqual([]);
    expect(lstatSync(dataDir).mode & 0o777).toBe(0o700);

    expect(await interrupt(running)).toBe(0);
    expect(running.output()).toContain('stopped.');

    running = await start(ports);
    const again = await fetch(`${api}/api/access-requests/${id}`, { headers: { authorization: `Bearer ${await login('clin.alice')}` } });
    expect(again.status).toBe(200);
    expect((await again.json()).status).toBe('ACTIVE');
    // The workflow survived too: it still answers a token request through its Update.
    const afterRestart = await post(`/api/access-requests/${id}/tokens`, await login('clin.alice'));
    expect(afterRestart.status).toBe(201);
    await openThroughGateway(afterRestart.body.access_token);
    expect(openToOthers(dataDir)).toEqual([]);
    // The background work runs once across the restart (the new worker joined the running
    // workflows), and the API signed the chain's first checkpoint for the checkpoint workflow.
    // No syslog collector is configured, so nothing forwards.
    let background = await backgroundWork(ports.TEMPORAL_PORT);
    for (let i = 0; i < 60 && background.checkpointsSigned === 0; i++) {
      await new Promise((r) => setTimeout(r, 500));
      background = await backgroundWork(ports.TEMPORAL_PORT);
    }
    expect(background).toMatchObject({ running: { 'history-archive': 1, 'audit-checkpoint': 1, 'audit-forwarding': 0 } });
    expect(background.checkpointsSigned).toBeGreaterThanOrEqual(1);
    expect(await interrupt(running)).toBe(0);
  }, 300_000);
});
