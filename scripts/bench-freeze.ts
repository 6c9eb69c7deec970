// npm run bench:freeze — "freeze everything" against thousands of grants in use. N active
// grants written straight into the database (BENCH_GRANTS) and R real ones made through the
// API (BENCH_REAL_GRANTS: submit, two approvals, a token), every token put in use at the
// gateway (its own process, revocation bound at its default), then one freeze of everything
// by a security officer. Measured from the API's 201: when the gateway refuses each token
// (a poller in its own process asks with every token, over and over, until each is refused),
// how long until the freeze's workflow has revoked every real grant, and that new
// submissions are refused (423). Timings are reported, never asserted.
//
// The written grants have no workflow: the freeze's sweep finds each one active, and skips
// it when Temporal has no workflow to take the revocation. The gateway refuses them as frozen.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import { AccessRequestService } from '../api/access-request-service.js';
import { startCheckpointSigningWorker } from '../api/checkpoint-signing-worker.js';
import { FreezeService } from '../api/freeze-service.js';
import { loadGatewayConfig } from '../config/gateway-config.js';
import { signPacsToken } from '../tokens/pacs-token.js';
import { freezeSnapshotQuery, type freezeWorkflow } from '../workflows/freeze.js';
import { startBenchServers } from './bench/bench-servers.js';
import type { PollerInput, PollerMessage, PollerResult } from './bench/freeze-poller.js';
import { measure } from './bench/stats.js';
import { scratchDir } from './lib/ephemeral-servers.js';
import { startOrthanc } from './lib/orthanc-server.js';
import { freePort, startProcess, waitFor } from './lib/processes.js';
import { step } from './lib/progress.js';
import { loadSyntheticStudies } from './lib/synthetic-studies.js';
import { GATEWAY_NODE_FLAGS } from '../gateway/node-flags.js';

const grantCount = Number(process.env.BENCH_GRANTS ?? 3000);
const realCount = Number(process.env.BENCH_REAL_GRANTS ?? 100);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
/** Requests in flight while waiting for the refusals. */
const pollConcurrency = Number(process.env.BENCH_POLL_CONCURRENCY ?? 32);
/** Gives up on a phase after this long: a freeze that does not take effect is a finding, not a hang. */
const PHASE_TIMEOUT_MS = 10 * 60_000;
/** What the gateway refuses a frozen or revoked grant with. */
const EXPECTED_REFUSALS = new Set(['ACCESS_FROZEN', 'GRANT_NOT_ACTIVE']);
/** Requesters of the written grants: the seeded clinicians and two more in the directory. */
const REQUESTERS = [
  { username: 'clin.alice', departmentId: 'radiology' },
  { username: 'clin.bob', departmentId: 'cardiology' },
  { username: 'clin.bench1', departmentId: 'radiology' },
  { username: 'clin.bench2', departmentId: 'cardiology' },
];

const phases: [string, number][] = [];
let phaseStarted = performance.now();
function endPhase(name: string): void {
  const now = performance.now();
  phases.push([name, (now - phaseStarted) / 1000]);
  phaseStarted = now;
}
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

// The PACS first: the API confirms each study's patient with it at submission.
const pacsDir = scratchDir('iar-bench-pacs-');
const orthanc = await startOrthanc({ dataDir: pacsDir, httpPort: await freePort(), logFile: path.join(pacsDir, 'orthanc.log') });
const [study] = await loadSyntheticStudies(orthanc);
const { studyInstanceUid, patientId } = study!;
const servers = await startBenchServers('bench-freeze', {
  // Two clinicians and two reviewers make every real grant: the per-user limits would be the bound.
  TOKEN_RATE_LIMIT_PER_MINUTE: '600',
  TOKEN_TTL_SECONDS: '900',
  SUBMISSION_RATE_LIMIT_PER_MINUTE: '10000',
  REVIEW_RATE_LIMIT_PER_MINUTE: '10000',
  DEV_LOGIN_RATE_LIMIT_PER_MINUTE: '10000',
  PACS_DICOMWEB_URL: orthanc.dicomwebUrl,
  PACS_USERNAME: orthanc.username,
  PACS_PASSWORD: orthanc.password,
});
const { workDir, api, post, login, runtime, config } = servers;
const { db, keys } = runtime;

// The bench servers run createApi alone; api/main.ts also runs the signing worker, which is
// what revokes a freeze's grants (each revocation a message signed here). Started as it does.
const log = pino({ name: 'bench-freeze', level: 'info' }, pino.destination({ dest: path.join(workDir, 'api-freezes.log'), sync: false }));
const deps = { config, db, temporal: runtime.temporal, keys, log };
const freezes = new FreezeService({ ...deps, requests: new AccessRequestService(deps) });
const signing = await startCheckpointSigningWorker({ temporal: config.temporal, db, keys, freezes });

// The gateway in its own process, as deployed, with the bound at its default.
const gatewayPort = await freePort();
const gatewayEnv: NodeJS.ProcessEnv = {
  ...process.env,
  GATEWAY_PORT: String(gatewayPort),
  TOKEN_ISSUER: api,
  PACS_DICOMWEB_URL: orthanc.dicomwebUrl,
  PACS_USERNAME: orthanc.username,
  PACS_PASSWORD: orthanc.password,
  DATABASE_URL: servers.databaseUrl,
  ACCESS_JOURNAL_DIR: path.join(workDir, 'journal'),
  LOG_LEVEL: 'warn',
};
delete gatewayEnv.REVOCATION_MAX_STALENESS_SECONDS;
const boundMs = loadGatewayConfig(gatewayEnv).revocationMaxStalenessMs;
const gatewayProcess = startProcess('gateway', process.execPath, [...GATEWAY_NODE_FLAGS, '--import', 'tsx', path.resolve('gateway/main.ts')], {
  logFile: path.join(workDir, 'gateway.log'),
  env: gatewayEnv,
});
const gateway = `http://127.0.0.1:${gatewayPort}`;

let poller: ChildProcess | undefined;
try {
  await waitFor('the gateway', async () => (await fetch(`${gateway}/healthz`)).ok, { process: gatewayProcess });
  step(`gateway up; revocation bound ${boundMs / 1000} s (REVOCATION_MAX_STALENESS_SECONDS at its default)`);
  endPhase('servers, PACS, gateway up');

  // N active grants, written as the workflow would have left them, each with a signed token.
  step(`writing ${grantCount} active grants and signing a token for each...`);
  for (const { username, departmentId } of REQUESTERS) {
    const data = { displayName: username, roles: ['clinician'], departmentId };
    await db.user.upsert({ where: { username }, create: { username, ...data }, update: {} });
  }
  const now = Date.now();
  const written = Array.from({ length: grantCount }, (_, i) => ({ id: `ar-${randomUUID()}`, ...REQUESTERS[i % REQUESTERS.length]! }));
  for (let from = 0; from < written.length; from += 1000) {
    const chunk = written.slice(from, from + 1000);
    await db.accessRequest.createMany({
      data: chunk.map(({ id, username, departmentId }) => ({
        id,
        requester: username,
        requesterRole: 'clinician',
        departmentId,
        studyInstanceUids: [studyInstanceUid],
        patientId,
        purposeOfUse: 'TREAT',
        justification: 'freeze benchmark (written directly)',
        durationMinutes: 60,
        requestHash: randomUUID().replace(/-/g, ''),
        status: 'ACTIVE',
        submittedAt: new Date(now),
        reviewDeadline: new Date(now + 24 * 3600_000),
      })),
    });
    await db.grant.createMany({
      data: chunk.map(({ id, username }) => ({
        accessRequestId: id,
        grantee: username,
        studyInstanceUids: [studyInstanceUid],
        approvers: ['sup.carol', 'priv.dave'],
        activatedAt: new Date(now),
        expiresAt: new Date(now + 3600_000),
      })),
    });
  }
  endPhase(`write ${grantCount} grants (createMany)`);
  const key = await keys.activeKey();
  const tokens: string[] = [];
  for (const { id, username } of written) {
    const issuedAt = Date.now();
    tokens.push(
      await signPacsToken(
        {
          issuer: config.tokens.issuer,
          audience: config.tokens.gatewayAudience,
          subject: username,
          jti: randomUUID(),
          issuedAt,
          expiresAt: issuedAt + 30 * 60_000,
          grantId: id,
          studyInstanceUids: [studyInstanceUid],
          patientId,
          purposeOfUse: 'TREAT',
          subjectRole: 'clinician',
          approvers: ['sup.carol', 'priv.dave'],
        },
        key,
      ),
    );
  }
  endPhase(`sign ${grantCount} tokens`);

  // R real grants through the API: their revocation goes through their workflows.
  step(`making ${realCount} real grants through the API (submit, two approvals, token), ${concurrency} at a time...`);
  const users = Object.fromEntries(
    await Promise.all(['clin.alice', 'clin.bob', 'sup.carol', 'priv.dave', 'sec.grace'].map(async (u) => [u, await login(u)])),
  ) as Record<string, string>;
  const realIds: string[] = [];
  const realStats = await measure(realCount, concurrency, async (i) => {
    const requester = i % 2 === 0 ? 'clin.alice' : 'clin.bob';
    const { id } = await post('/api/access-requests', users[requester], {
      studyInstanceUids: [studyInstanceUid],
      patientId,
      purposeOfUse: 'TREAT',
      justification: `freeze benchmark, real grant ${i}`,
      durationMinutes: 60,
    });
    await post(`/api/access-requests/${id}/reviews`, users['sup.carol'], { decision: 'approve' });
    await post(`/api/access-requests/${id}/reviews`, users['priv.dave'], { decision: 'approve' });
    const { access_token: token } = await post(`/api/access-requests/${id}/tokens`, users[requester], {});
    realIds.push(id as string);
    tokens.push(token as string);
  });
  endPhase(`make ${realCount} real grants via the API`);
  const total = tokens.length;

  // Every grant in use at the gateway: one request per token.
  step(`putting ${total} tokens in use at the gateway, ${concurrency} at a time...`);
  const seriesUrl = `${gateway}/dicom-web/studies/${studyInstanceUid}/series`;
  const ask = async (token: string): Promise<{ status: number; title?: string }> => {
    const response = await fetch(seriesUrl, { headers: { authorization: `Bearer ${token}`, accept: 'application/dicom+json' } });
    if (response.status === 200) {
      await response.arrayBuffer();
      return { status: 200 };
    }
    const body = (await response.json().catch(() => ({}))) as { title?: string };
    return { status: response.status, title: body.title };
  };
  const inUse = await measure(total, concurrency, async (i) => {
    const answer = await ask(tokens[i]!);
    if (answer.status !== 200) throw new Error(`token ${i} not served before the freeze: ${answer.status} ${answer.title ?? ''}`);
  });
  endPhase(`put ${total} tokens in use (all 200)`);
  // Once more, warm (tokens and grant states cached): how long one pass over every token
  // takes, which is how finely the loop below can tell when each one is refused.
  const warm = await measure(total, concurrency, async (i) => {
    const answer = await ask(tokens[i]!);
    if (answer.status !== 200) throw new Error(`token ${i} not served before the freeze: ${answer.status} ${answer.title ?? ''}`);
  });
  endPhase(`again, warm: one pass over ${total} tokens (all 200)`);
  // The query the gateway's poller runs every half bound over every grant in use (gateway/grant-status.ts).
  const allGrantIds = [...written.map((w) => w.id), ...realIds];
  const refreshMs: number[] = [];
  for (let run = 0; run < 5; run++) {
    const started = performance.now();
    await db.accessRequest.findMany({
      where: { id: { in: allGrantIds } },
      select: { id: true, status: true, grant: { select: { expiresAt: true } }, patientId: true, studyInstanceUids: true, requester: true, departmentId: true },
    });
    refreshMs.push(performance.now() - started);
  }

  // Freeze everything. The poller, in a process of its own, waits ready for the API's 201.
  const child = fork(path.resolve('scripts/bench/freeze-poller.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // Structured clone: NaN (a token never refused, never served) stays NaN.
    serialization: 'advanced',
  });
  poller = child;
  const polled = new Promise<PollerResult>((resolve, reject) => {
    child.on('message', (message: PollerMessage) => (message.kind === 'result' ? resolve(message.result) : undefined));
    child.once('exit', (code) => reject(new Error(`the gateway poller exited (${code}) before it was done`)));
  });
  // Handled here, awaited below: a poller that fails to start fails the run, through the cleanup.
  polled.catch(() => undefined);
  child.send({ url: seriesUrl, tokens, concurrency: pollConcurrency, timeoutMs: PHASE_TIMEOUT_MS, expected: [...EXPECTED_REFUSALS] } satisfies PollerInput);
  await Promise.race([new Promise((resolve) => child.on('message', (message: PollerMessage) => message.kind === 'ready' && resolve(undefined))), polled]);
  step('freezing everything as sec.grace...');
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const posted = performance.now();
  const frozenResponse = await fetch(`${api}/api/freezes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${users['sec.grace']}` },
    body: JSON.stringify({ scope: 'all', reason: 'Freeze benchmark: images leaked' }),
  });
  const frozen = (await frozenResponse.json()) as { id: string };
  const t201 = performance.now();
  if (frozenResponse.status !== 201) throw new Error(`POST /api/freezes: ${frozenResponse.status} ${JSON.stringify(frozen)}`);
  // (a) Every token, over and over, until the gateway refuses each (in the poller's process).
  child.send({ since: performance.timeOrigin + t201 });
  const since = () => performance.now() - t201;

  // (c) A new submission, at once.
  const submission = await fetch(`${api}/api/access-requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${users['clin.alice']}` },
    body: JSON.stringify({ studyInstanceUids: [studyInstanceUid], patientId, purposeOfUse: 'TREAT', justification: 'after the freeze', durationMinutes: 60 }),
  });
  const submissionBody = (await submission.json()) as { reason?: string };

  // (b) The real grants REVOKED in the database, and the revocation activity done.
  const revocationRun = (async () => {
    let allRevokedAt = NaN;
    let activityDoneAt = NaN;
    let revokedGrants: number | null = null;
    const handle = runtime.temporal.workflow.getHandle<typeof freezeWorkflow>(frozen.id);
    while (since() < PHASE_TIMEOUT_MS && (Number.isNaN(allRevokedAt) || Number.isNaN(activityDoneAt))) {
      if (Number.isNaN(allRevokedAt)) {
        const revoked = await db.accessRequest.count({ where: { id: { in: realIds }, status: 'REVOKED' } });
        if (revoked === realIds.length) allRevokedAt = since();
      }
      if (Number.isNaN(activityDoneAt)) {
        const snapshot = await handle.query(freezeSnapshotQuery);
        if (snapshot.revokedGrants !== null) {
          activityDoneAt = since();
          revokedGrants = snapshot.revokedGrants;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { allRevokedAt, activityDoneAt, revokedGrants };
  })();

  const refusals = await polled;
  endPhase('freeze → every token refused at the gateway');
  const revocations = await revocationRun;
  lag.disable();
  endPhase('freeze → revocation activity done');

  const freezeRow = await db.accessFreeze.findUniqueOrThrow({ where: { id: frozen.id } });
  const realRevocations = await db.revocation.findMany({
    where: { accessRequestId: { in: realIds }, revokedBy: 'sec.grace' },
    select: { revokedAt: true },
    orderBy: { revokedAt: 'asc' },
  });
  const realRevoked = realRevocations.length;
  const t201Epoch = performance.timeOrigin + t201;
  const firstRealRevocation = realRevoked ? realRevocations[0]!.revokedAt.getTime() - t201Epoch : NaN;
  const lastRealRevocation = realRevoked ? realRevocations[realRevoked - 1]!.revokedAt.getTime() - t201Epoch : NaN;
  const writtenStillActive = await db.accessRequest.count({ where: { id: { in: written.map((w) => w.id) }, status: 'ACTIVE' } });

  // Report.
  const refusedTimes = refusals.firstRefused.filter((t) => !Number.isNaN(t));
  const servedTimes = refusals.lastServedSent.filter((t) => !Number.isNaN(t));
  const lastServedAt = servedTimes.length ? Math.max(...servedTimes) : NaN;
  const fmtMap = (m: Record<string, number>) =>
    Object.entries(m)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  const sec = (ms: number) => (Number.isNaN(ms) ? 'n/a' : (ms / 1000).toFixed(2)).padStart(8);
  const row = (label: string, ms: number, after = '') => `  ${label.padEnd(46)} ${sec(ms)}   ${after}`;
  const vsBound = (ms: number) => (Number.isNaN(ms) ? '' : `×${(ms / boundMs).toFixed(2)}`);
  const perSecond = (count: number, ms: number, what: string) => (Number.isNaN(ms) ? '' : `${(count / (ms / 1000)).toFixed(1)} ${what}`);
  const lines = [
    '',
    `bench:freeze  (${grantCount} written + ${realCount} real grants = ${total} tokens in use; concurrency ${concurrency}; gateway in its own process)`,
    `revocation bound (REVOCATION_MAX_STALENESS_SECONDS at its default): ${boundMs / 1000} s`,
    '',
    `${'phase'.padEnd(48)} ${'seconds'.padStart(8)}`,
    ...phases.map(([name, seconds]) => `${name.padEnd(48)} ${seconds.toFixed(1).padStart(8)}`),
    '',
    `before the freeze: real grant cycle p50 ${realStats.p50.toFixed(0)} ms (${realStats.perSecond.toFixed(1)}/s);` +
      ` gateway served ${inUse.perSecond.toFixed(0)} req/s first-seen (p50 ${inUse.p50.toFixed(1)} ms), ${warm.perSecond.toFixed(0)} req/s warm` +
      ` (p50 ${warm.p50.toFixed(1)} ms)`,
    `the gateway's grant refresh query over all ${total} grants, as this process runs it: p50 ${percentile(refreshMs, 50).toFixed(0)} ms,` +
      ` max ${Math.max(...refreshMs).toFixed(0)} ms (it runs every ${boundMs / 2000} s)`,
    `POST /api/freezes {scope: 'all'}: 201 after ${((t201 - posted) / 1000).toFixed(2)} s`,
    '',
    `(a) gateway, from the API's 201                    ${'seconds'.padStart(8)}   / bound`,
    row('first refusal per token, p50', percentile(refusedTimes, 50), vsBound(percentile(refusedTimes, 50))),
    row('first refusal per token, p95', percentile(refusedTimes, 95), vsBound(percentile(refusedTimes, 95))),
    row('first refusal per token, max (all refused)', Math.max(...refusedTimes), vsBound(Math.max(...refusedTimes))),
    row('last 200 (request sent at)', lastServedAt, vsBound(lastServedAt)),
    row('first 403 (answer received at)', Math.min(...refusedTimes), vsBound(Math.min(...refusedTimes))),
    `  refused ${refusedTimes.length}/${total}` +
      (refusals.notRefused ? ` (${refusals.notRefused} NOT refused after ${PHASE_TIMEOUT_MS / 1000} s)` : '') +
      `; by title: ${fmtMap(refusals.titles)}; other answers meanwhile: ${fmtMap(refusals.others)}`,
    `  passes over the tokens not yet refused (${pollConcurrency} at a time): ` +
      refusals.passes.map((p) => `${p.pending} tokens in ${p.seconds.toFixed(2)} s`).join(', '),
    `  event-loop delay, p99 / max: poller process ${refusals.loopDelayP99Ms.toFixed(0)} / ${refusals.loopDelayMaxMs.toFixed(0)} ms,` +
      ` API (this process) ${(lag.percentile(99) / 1e6).toFixed(0)} / ${(lag.max / 1e6).toFixed(0)} ms`,
    '',
    `(b) revocation through the freeze's workflow       ${'seconds'.padStart(8)}`,
    row(
      `all ${realCount} real grants REVOKED in the database`,
      revocations.allRevokedAt,
      perSecond(realCount, revocations.allRevokedAt, 'revocations/s from the 201'),
    ),
    row(`first real grant revoked (revokedAt)`, firstRealRevocation),
    row(
      `last real grant revoked (revokedAt)`,
      lastRealRevocation,
      perSecond(realRevoked - 1, lastRealRevocation - firstRealRevocation, 'revocations/s first to last'),
    ),
    row(
      `revocation activity done (${total} active grants)`,
      revocations.activityDoneAt,
      perSecond(total, revocations.activityDoneAt, 'active grants gone through/s'),
    ),
    `  freeze's revokedGrants: ${revocations.revokedGrants ?? 'not reported'} (row: ${freezeRow.revokedGrants});` +
      ` revocations by sec.grace recorded: ${realRevoked}/${realCount}`,
    `  written grants still ACTIVE in the database (no workflow to revoke them): ${writtenStillActive}/${grantCount}`,
    '',
    `(c) a new submission after the freeze: ${submission.status} ${submissionBody.reason ?? ''}`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
} finally {
  if (poller && poller.exitCode === null && poller.signalCode === null) poller.kill();
  await gatewayProcess.stop();
  await signing.stop().catch(() => undefined);
  await orthanc.process.stop();
  await servers.close();
}
