import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, scratchDir } from '../../scripts/lib/ephemeral-servers.js';
import { BACKGROUND_JOBS, backgroundWorkflowId } from '../../workflows/background-jobs.js';

// `npm run start:cluster` as an operator runs it (issue 13): its own PostgreSQL, the Temporal
// server on it, Orthanc, two workers, two APIs and two gateways behind nginx. Every call below
// goes to a chosen process, or through the load balancer, as the test says.

const dataDir = scratchDir('iar-cluster-');
const STUDY = '1.2.826.0.1.3680043.8.498.1';
let child: ChildProcess;
let output = '';
/** A request made in the first run, looked for after a restart. */
let before: string | undefined;
const ports: Record<string, number> = {};

/** `count` consecutive free ports below the kernel's ephemeral range (see embedded-start.test.ts). */
async function freeRun(count: number): Promise<number> {
  const isFree = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (;;) {
    const first = 20_000 + Math.floor(Math.random() * 12_000);
    const run = Array.from({ length: count }, (_, i) => first + i);
    if (run.some((p) => Object.values(ports).some((q) => Math.abs(p - q) < 3))) continue;
    if ((await Promise.all(run.map(isFree))).every(Boolean)) return first;
  }
}

/** `npm run start:cluster` on this file's ports and data folder, until it says it runs. */
async function start(): Promise<void> {
  output = '';
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    IAR_DATA_DIR: dataDir,
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    LOG_LEVEL: 'warn',
    // Short enough to test revocation quickly; a request's own lookup may take half of it
    // (1.5 s), which a loaded 2-core machine running the whole suite needs now and then.
    REVOCATION_MAX_STALENESS_SECONDS: '3',
  };
  for (const name of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'PACS_DICOMWEB_URL', 'TOKEN_ISSUER', 'KEY_ENCRYPTION_KEY']) delete env[name];
  child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'start-cluster.ts')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (output.includes('running as a cluster')) {
        clearInterval(timer);
        resolve();
      }
    }, 200);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`start:cluster exited with ${code}:\n${output}`));
    });
  });
}

beforeAll(async () => {
  for (const [name, count] of [
    ['API_PORT', 3],
    ['GATEWAY_PORT', 3],
    ['POSTGRES_PORT', 1],
    ['TEMPORAL_PORT', 1],
    ['ORTHANC_PORT', 1],
  ] as const) {
    ports[name] = await freeRun(count);
  }
  await start();
}, 15 * 60_000);

afterAll(async () => {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await exited;
});

const api = (n?: 1 | 2) => `http://127.0.0.1:${ports.API_PORT! + (n ?? 0)}`;
const gateway = (n?: 1 | 2) => `http://127.0.0.1:${ports.GATEWAY_PORT! + (n ?? 0)}`;

async function call(base: string, method: string, route: string, token?: string, body?: unknown) {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: (await response.json().catch(() => null)) as Record<string, unknown> };
}
const login = async (base: string, username: string) => (await call(base, 'POST', '/auth/dev-login', undefined, { username })).body.access_token as string;

/** A request submitted on one API process, reviewed on the other, its token issued by `issuer`. */
async function grant(issuer: string): Promise<{ id: string; token: string }> {
  const submitted = await call(api(1), 'POST', '/api/access-requests', await login(api(1), 'clin.alice'), {
    studyInstanceUids: [STUDY],
    patientId: 'SYN-0001',
    purposeOfUse: 'TREAT',
    justification: 'cluster test: follow-up of a suspected fracture',
    durationMinutes: 60,
  });
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
  const id = submitted.body.id as string;
  for (const [base, reviewer] of [
    [api(2), 'sup.carol'],
    [api(1), 'priv.dave'],
  ] as const) {
    const reviewed = await call(base, 'POST', `/api/access-requests/${id}/reviews`, await login(base, reviewer), { decision: 'approve' });
    expect(reviewed.status, JSON.stringify(reviewed.body)).toBe(201);
  }
  const issued = await call(issuer, 'POST', `/api/access-requests/${id}/tokens`, await login(issuer, 'clin.alice'));
  expect(issued.status, JSON.stringify(issued.body)).toBe(201);
  return { id, token: issued.body.access_token as string };
}

const series = (base: string, token: string) => fetch(`${base}/dicom-web/studies/${STUDY}/series`, { headers: { authorization: `Bearer ${token}` } });

describe('npm run start:cluster', () => {
  it('runs the cycle across API processes; a token from either is taken by both gateways and through the balancer', async () => {
    for (const issuer of [api(1), api(2), api()]) {
      const { id, token } = await grant(issuer);
      before ??= id;
      // One issuer for all: the balancer's address, whichever process signed.
      expect(decodeJwt(token).iss).toBe(api());
      for (const base of [gateway(1), gateway(2), gateway()]) {
        const answer = await series(base, token);
        // A refusal says why (its problem's title) in the failure message.
        expect(answer.status, `${issuer} → ${base}: ${answer.ok ? '' : await answer.text()}`).toBe(200);
      }
    }
  });

  it('refuses a grant revoked on one API process at both gateways within the bound', async () => {
    const { id, token } = await grant(api(1));
    expect((await series(gateway(1), token)).status).toBe(200);
    expect((await series(gateway(2), token)).status).toBe(200);
    const revoked = await call(api(2), 'POST', `/api/access-requests/${id}/revoke`, await login(api(2), 'sec.grace'), { reason: 'cluster test: revoked' });
    expect(revoked.status).toBe(200);
    const at = Date.now();
    for (const base of [gateway(1), gateway(2)]) {
      let status = 200;
      while (status === 200 && Date.now() - at < 8_000) {
        status = (await series(base, token)).status;
        if (status === 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status, base).toBe(403);
    }
    // The bound is 3 s, polled twice per bound: well inside 8 s on a loaded machine.
    expect(Date.now() - at).toBeLessThan(8_000);
  });

  it('runs each background job once, whichever worker started it', async () => {
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.TEMPORAL_PORT}` });
    try {
      const client = new Client({ connection });
      for (const job of ['history-archive', 'audit-checkpoint'] as const) {
        // By type, not by id: a second run under any other id would be counted too.
        const found: string[] = [];
        for await (const run of client.workflow.list({ query: `WorkflowType = '${BACKGROUND_JOBS[job]}' AND ExecutionStatus = 'Running'` }))
          found.push(run.workflowId);
        expect(found, job).toEqual([backgroundWorkflowId(job, 'access-requests')]);
      }
    } finally {
      await connection.close();
    }
  });

  it('keeps serving through the balancer while a gateway process is killed, starts it again, and loses no access record', async () => {
    const { id, token } = await grant(api());
    const victim = gatewayPid(ports.GATEWAY_PORT! + 1)!;
    expect(victim).toBeDefined();
    const statuses: number[] = [];
    let failures = 0;
    const until = Date.now() + 6_000;
    let killed = false;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() < until) {
          if (!killed && Date.now() > until - 4_500) {
            killed = true;
            process.kill(victim, 'SIGKILL');
          }
          try {
            const response = await series(gateway(), token);
            await response.arrayBuffer();
            statuses.push(response.status);
          } catch {
            failures++;
          }
          // A viewer's pace, not a flood: the auditor's view below lists up to 1000 records.
          await new Promise((r) => setTimeout(r, 40));
        }
      }),
    );
    expect(killed).toBe(true);
    // The balancer sends a GET whose process could not be reached to the other one: at most
    // the requests in flight at the moment of the kill can fail.
    expect(failures).toBeLessThanOrEqual(4);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // The killed process is started again, with another pid, and serves.
    let again: number | undefined;
    for (let i = 0; i < 100 && (again === undefined || again === victim); i++) {
      await new Promise((r) => setTimeout(r, 200));
      again = gatewayPid(ports.GATEWAY_PORT! + 1);
    }
    expect(again).toBeDefined();
    expect(again).not.toBe(victim);
    let probes = 0;
    await expect
      .poll(
        async () => {
          probes++;
          return (await series(gateway(1), token)).status;
        },
        { timeout: 20_000 },
      )
      .toBe(200);
    // Every answer the viewer had is recorded: what the killed process journalled was flushed
    // when it started again. More records than answers only for what was in flight.
    const auditor = await login(api(), 'aud.frank');
    const served = async () => {
      const log = await call(api(), 'GET', `/api/access-requests/${id}/image-accesses`, auditor);
      return (log.body.items as { outcome: string }[]).filter((r) => r.outcome === 'served').length;
    };
    await expect.poll(served, { timeout: 20_000 }).toBeGreaterThanOrEqual(statuses.length);
    expect(await served()).toBeLessThanOrEqual(statuses.length + probes + 4);
  });

  it('stops on Ctrl-C and starts again on the same data, the earlier request and its workflow still there', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    await start();
    const view = await call(api(), 'GET', `/api/access-requests/${before!}`, await login(api(), 'clin.alice'));
    expect(view.status).toBe(200);
    expect(view.body.status).toBe('ACTIVE');
    // The Temporal server found its databases as it left them: the workflow answers.
    const { token } = await grant(api());
    expect((await series(gateway(), token)).status).toBe(200);
  }, 600_000);
});

/** The pid of the gateway process listening on `port`, from /proc. */
function gatewayPid(port: number): number | undefined {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('gateway/main.ts')) continue;
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`GATEWAY_PORT=${port}`)) return Number(pid);
    } catch {
      // gone since listed
    }
  }
  return undefined;
}
