// npm run bench:gateway — the gateway against a plain reverse proxy, measured with wrk (a C
// load generator, so the client does not set the pace): the same WADO-RS requests for the
// same instance straight to Orthanc, through nginx (keep-alive upstream, no auth, no
// logging; configuration generated here) and through the gateway with a valid token, in the
// same run, interleaved, two rounds. Prints each route's ratios to direct, p50/p99, the
// gateway's RSS, and authorization decisions per second (cached token, first-seen token)
// against bare crypto.verify on the same token. Ratios only: absolute figures on a shared
// 2-core machine are noise.
//
// BENCH_WRK_SECONDS (7), BENCH_CONNECTIONS (8), BENCH_ROUNDS (2), BENCH_ROUTES (a
// comma-separated subset of the route names), BENCH_DECISIONS (3000), BENCH_SOAK_SECONDS
// (0: none; else frames through the gateway that long, RSS at start and end),
// BENCH_GATEWAY_PROFILE_DIR (the gateway runs with --cpu-prof and writes its profile there),
// BENCH_GATEWAY_WORKERS (1; more: that many gateway processes on one port, node:cluster, to
// see whether the second core helps; scripts/bench/cluster-gateway.ts).
import { execFileSync } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLocalJWKSet } from 'jose';
import { TokenVerifier } from '../gateway/token-verifier.js';
import { signPacsToken } from '../tokens/pacs-token.js';
import { startBenchServers } from './bench/bench-servers.js';
import { NGINX_BINARY, startNginxProxy } from './bench/nginx-proxy.js';
import { hasCommand, wrk, type WrkResult } from './bench/wrk.js';
import { scratchDir } from './lib/ephemeral-servers.js';
import { startOrthanc } from './lib/orthanc-server.js';
import { freePort, startProcess, waitFor } from './lib/processes.js';
import { step } from './lib/progress.js';
import { loadSyntheticStudies } from './lib/synthetic-studies.js';

const wrkSeconds = Number(process.env.BENCH_WRK_SECONDS ?? 7);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 8);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const decisions = Number(process.env.BENCH_DECISIONS ?? 3000);
const soakSeconds = Number(process.env.BENCH_SOAK_SECONDS ?? 0);
/** Shorter than a PACS token lives (TOKEN_TTL_SECONDS, 300 by default). */
const SOAK_SLICE_SECONDS = 120;
const profileDir = process.env.BENCH_GATEWAY_PROFILE_DIR;
const gatewayWorkers = Number(process.env.BENCH_GATEWAY_WORKERS ?? 1);

// wrk and nginx come from Debian; installed here when missing and allowed, else named.
const missing = [...(hasCommand('wrk', ['--version']) ? [] : ['wrk']), ...(hasCommand(NGINX_BINARY, ['-v']) ? [] : ['nginx-light'])];
if (missing.length > 0) {
  if (process.getuid?.() === 0 && hasCommand('apt-get', ['--version'])) {
    step(`installing from Debian's packages: ${missing.join(' ')}...`);
    execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } else {
    process.stderr.write(`bench:gateway needs ${missing.join(' and ')} (Debian: apt-get install ${missing.join(' ')}).\n`);
    process.exit(1);
  }
}

// The PACS first: the API confirms each study's patient with it at submission.
const pacsDir = scratchDir('iar-bench-pacs-');
const orthancPort = await freePort();
const orthanc = await startOrthanc({ dataDir: pacsDir, httpPort: orthancPort, logFile: path.join(pacsDir, 'orthanc.log') });
const [study] = await loadSyntheticStudies(orthanc);
const servers = await startBenchServers('bench-gw', {
  PACS_DICOMWEB_URL: orthanc.dicomwebUrl,
  PACS_USERNAME: orthanc.username,
  PACS_PASSWORD: orthanc.password,
});
const { workDir, api, post, login, runtime } = servers;
const keys = runtime.keys;

const alice = await login('clin.alice');
const { id } = await post('/api/access-requests', alice, {
  studyInstanceUids: [study!.studyInstanceUid],
  patientId: study!.patientId,
  purposeOfUse: 'TREAT',
  justification: 'gateway benchmark run',
  durationMinutes: 60,
});
await post(`/api/access-requests/${id}/reviews`, await login('sup.carol'), { decision: 'approve' });
await post(`/api/access-requests/${id}/reviews`, await login('priv.dave'), { decision: 'approve' });
const { access_token: token } = await post(`/api/access-requests/${id}/tokens`, alice, {});

// The gateway in its own process, as deployed.
const gatewayPort = await freePort();
const gatewayProcess = startProcess(
  'gateway',
  process.execPath,
  [
    ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : []),
    '--import',
    'tsx',
    path.resolve(gatewayWorkers > 1 ? 'scripts/bench/cluster-gateway.ts' : 'gateway/main.ts'),
  ],
  {
    logFile: path.join(workDir, 'gateway.log'),
    env: {
      ...process.env,
      GATEWAY_PORT: String(gatewayPort),
      TOKEN_ISSUER: api,
      PACS_DICOMWEB_URL: orthanc.dicomwebUrl,
      PACS_USERNAME: orthanc.username,
      PACS_PASSWORD: orthanc.password,
      DATABASE_URL: servers.databaseUrl,
      ACCESS_JOURNAL_DIR: path.join(workDir, 'journal'),
      LOG_LEVEL: 'warn',
      BENCH_GATEWAY_WORKERS: String(gatewayWorkers),
    },
  },
);
const gateway = `http://127.0.0.1:${gatewayPort}`;
await waitFor('the gateway', async () => (await fetch(`${gateway}/healthz`)).ok, { process: gatewayProcess });

const basic = `Basic ${Buffer.from(`${orthanc.username}:${orthanc.password}`).toString('base64')}`;
const nginxDir = scratchDir('iar-bench-nginx-');
const nginx = await startNginxProxy({ dir: nginxDir, port: await freePort(), upstreamPort: orthancPort, authorization: basic });

/** The gateway's resident memory in MiB: the process and any children it forked. */
function gatewayRssMiB(): number {
  const pid = gatewayProcess.child.pid!;
  const rssKiB = (p: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
  let children: number[] = [];
  try {
    children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    // no children
  }
  return [pid, ...children].reduce((n, p) => n + rssKiB(p), 0) / 1024;
}

const series = study!.series[0]!;
const instance = `/studies/${study!.studyInstanceUid}/series/${series.seriesInstanceUid}/instances/${series.instances[0]}`;
const allRoutes = {
  'frames/1': `${instance}/frames/1`,
  metadata: `${instance}/metadata`,
  instance,
  'bulk (pixel data)': `${instance}/bulk/7fe00010`,
  rendered: `${instance}/rendered`,
};
const only = process.env.BENCH_ROUTES?.split(',').map((s) => s.trim());
const routes = Object.entries(allRoutes).filter(([name]) => !only || only.includes(name));
const targets = {
  direct: { base: orthanc.dicomwebUrl, authorization: basic },
  nginx: { base: `${nginx.url}/dicom-web`, authorization: `Bearer ${token}` },
  gateway: { base: `${gateway}/dicom-web`, authorization: `Bearer ${token}` },
};
type Target = keyof typeof targets;

// Every target answers every route before anything is timed.
const sizes = new Map<string, number>();
for (const [name, p] of routes) {
  for (const [target, { base, authorization }] of Object.entries(targets)) {
    const response = await fetch(`${base}${p}`, { headers: { authorization } });
    const body = Buffer.from(await response.arrayBuffer());
    if (!response.ok) throw new Error(`${name} through ${target}: ${response.status} ${body.toString('utf8', 0, 200)}`);
    if (target === 'direct') sizes.set(name, body.length);
  }
}

try {
  const run = (target: Target, p: string, seconds: number) =>
    wrk(`${targets[target].base}${p}`, { seconds, connections, headers: { authorization: targets[target].authorization } });
  step('warming up...');
  for (const [, p] of routes) for (const target of Object.keys(targets) as Target[]) await run(target, p, 2);
  const rssStart = gatewayRssMiB();
  const results = new Map<string, Record<Target, WrkResult>[]>(routes.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, p] of routes) {
      const round = {} as Record<Target, WrkResult>;
      for (const target of Object.keys(targets) as Target[]) {
        step(`round ${r + 1}/${rounds}: ${name}, ${target}, ${wrkSeconds} s, ${connections} connections...`);
        round[target] = await run(target, p, wrkSeconds);
      }
      results.get(name)!.push(round);
    }
  }
  const rssEnd = gatewayRssMiB();

  let soak = '';
  if (soakSeconds > 0) {
    const before = gatewayRssMiB();
    step(`soak: frames/1 through the gateway for ${soakSeconds} s...`);
    // In slices shorter than a token's life, each with a fresh token, as a viewer renews its
    // own: one token would expire mid-soak and the rest would be refusals, not images.
    const slices: { perSecond: number; p99: number; rss: number }[] = [];
    for (let left = soakSeconds; left > 0; left -= SOAK_SLICE_SECONDS) {
      const { access_token: renewed } = await post(`/api/access-requests/${id}/tokens`, alice, {});
      targets.gateway.authorization = `Bearer ${renewed}`;
      const s = await run('gateway', allRoutes['frames/1'], Math.min(left, SOAK_SLICE_SECONDS));
      slices.push({ perSecond: s.perSecond, p99: s.p99, rss: gatewayRssMiB() });
    }
    const rss = `RSS ${before.toFixed(0)} → ${slices.map((x) => x.rss.toFixed(0)).join(' → ')} MiB`;
    const perSecond = slices.reduce((sum, x) => sum + x.perSecond, 0) / slices.length;
    const p99 = Math.max(...slices.map((x) => x.p99));
    soak = `\nsoak: frames/1 through the gateway for ${soakSeconds} s: ${perSecond.toFixed(0)} req/s, worst p99 ${p99.toFixed(1)} ms; ${rss}\n`;
  }

  // Authorization decisions, one core, in this process: the gateway's verifier on a cached
  // token, on tokens it has not seen (a full jose jwtVerify each), and bare crypto.verify.
  step('measuring authorization decisions...');
  const jwks = await keys.jwks();
  const localJwks = createLocalJWKSet(jwks);
  const verifierOptions = { issuer: api, audience: 'iar-pacs-gateway', jwksUrl: `${api}/.well-known/jwks.json`, clockToleranceSeconds: 5, jwks: localJwks };
  const key = await keys.activeKey();
  const fresh: string[] = [];
  for (let i = 0; i < decisions; i++) {
    const now = Date.now();
    fresh.push(
      await signPacsToken(
        {
          issuer: api,
          audience: 'iar-pacs-gateway',
          subject: 'clin.alice',
          jti: `bench-${i}`,
          issuedAt: now,
          expiresAt: now + 300_000,
          grantId: id,
          studyInstanceUids: [study!.studyInstanceUid],
          patientId: study!.patientId,
          purposeOfUse: 'TREAT',
          subjectRole: 'clinician',
          approvers: ['sup.carol', 'priv.dave'],
        },
        key,
      ),
    );
  }
  async function perSecond(task: (i: number) => Promise<unknown> | unknown): Promise<number> {
    const started = performance.now();
    for (let i = 0; i < decisions; i++) await task(i);
    return decisions / ((performance.now() - started) / 1000);
  }
  const cachedVerifier = new TokenVerifier(verifierOptions);
  await cachedVerifier.verify(`Bearer ${fresh[0]}`);
  const cached = await perSecond(() => cachedVerifier.verify(`Bearer ${fresh[0]}`));
  const firstSeen = await perSecond((i) => new TokenVerifier(verifierOptions).verify(`Bearer ${fresh[i]}`));
  const publicKey = createPublicKey({ key: jwks.keys[0]! as import('node:crypto').JsonWebKey, format: 'jwk' });
  const bare = await perSecond((i) => {
    const [h, p, s] = fresh[i]!.split('.');
    if (!verify('sha256', Buffer.from(`${h}.${p}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(s!, 'base64url')))
      throw new Error('bad signature');
  });

  const f0 = (n: number) => n.toFixed(0);
  const f1 = (n: number) => n.toFixed(1);
  const f2 = (n: number) => n.toFixed(2);
  const rows: string[] = [];
  const gatewayShape = gatewayWorkers > 1 ? `gateway in ${gatewayWorkers} processes (node:cluster)` : 'gateway in one process';
  for (const [name, list] of results) {
    list.forEach((x, r) => {
      const nginxRatio = x.nginx.perSecond / x.direct.perSecond;
      const gatewayRatio = x.gateway.perSecond / x.direct.perSecond;
      const goal =
        name === 'rendered'
          ? gatewayRatio >= 0.5
            ? 'met (≥ 0.5 × direct)'
            : 'not met (< 0.5 × direct)'
          : [
              gatewayRatio >= nginxRatio ? 'throughput met' : 'throughput not met',
              x.gateway.p99 <= x.nginx.p99 * 1.2 ? 'p99 met' : `p99 not met (> ${f1(x.nginx.p99 * 1.2)})`,
            ].join(', ');
      rows.push(
        [
          r === 0 ? `${name} (${(sizes.get(name)! / 1000).toFixed(0)} kB)` : '',
          f0(x.direct.perSecond),
          f2(nginxRatio),
          f2(gatewayRatio),
          `${f1(x.direct.p50)} / ${f1(x.direct.p99)}`,
          `${f1(x.nginx.p50)} / ${f1(x.nginx.p99)}`,
          `${f1(x.gateway.p50)} / ${f1(x.gateway.p99)}`,
          [goal, ...Object.entries(x).flatMap(([target, w]) => (w.socketErrors ? [`${w.socketErrors} socket errors (${target})`] : []))].join('; '),
        ].join(' | '),
      );
    });
  }

  process.stdout.write(`
bench:gateway  wrk -t1 -c${connections}, ${gatewayShape}, ${rounds} rounds × ${wrkSeconds} s per target
interleaved (direct, nginx, gateway); one instance of a 256×256 CT
load average at the end: ${os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(', ')} on ${os.cpus().length} cores; gateway RSS ${f0(rssStart)} MiB after warm-up, ${f0(rssEnd)} MiB after the rounds

| route | direct req/s | nginx ÷ direct | gateway ÷ direct | direct p50 / p99 ms | nginx p50 / p99 ms | gateway p50 / p99 ms | goal |
|---|---|---|---|---|---|---|---|
${rows.map((row) => `| ${row} |`).join('\n')}
${soak}
authorization decisions per second (${decisions} tokens, one core):
  bare crypto.verify (ES256)       ${f0(bare).padStart(9)}   ×1.00
  gateway, first-seen token        ${f0(firstSeen).padStart(9)}   ×${f2(firstSeen / bare)}
  gateway, cached token            ${f0(cached).padStart(9)}   ×${f2(cached / bare)}
`);
} finally {
  // Also when a run fails: nothing this started is left behind.
  await gatewayProcess.stop();
  await nginx.process.stop();
  await orthanc.process.stop();
  await servers.close();
}
