// npm run bench:gateway — the gateway against a plain reverse proxy, measured with wrk (a C
// load generator, so the client does not set the pace): the same WADO-RS requests for the
// same instance straight to Orthanc, through nginx (keep-alive upstream, no auth, no
// logging; configuration generated here), through a bare Node proxy (Node's floor,
// scripts/bench/node-floor-proxy.ts) and through the gateway with a valid token, in the
// same run, interleaved, two rounds. Prints each route's ratios to direct, p50/p99, the CPU
// time Orthanc and each proxy spent per answer, the gateway's RSS, and authorization decisions per second (cached token, first-seen token)
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
import os from 'node:os';
import path from 'node:path';
import { createLocalJWKSet } from 'jose';
import { TokenVerifier } from '../gateway/token-verifier.js';
import { signPacsToken } from '../tokens/pacs-token.js';
import { startBenchServers } from './bench/bench-servers.js';
import { NGINX_BINARY, startNginxProxy } from './bench/nginx-proxy.js';
import { cpuSeconds, processTree, rssMiB } from './bench/process-tree.js';
import { hasCommand, wrk, type WrkResult } from './bench/wrk.js';
import { scratchDir } from './lib/ephemeral-servers.js';
import { startOrthanc } from './lib/orthanc-server.js';
import { freePort, isPortOpen, startProcess, waitFor } from './lib/processes.js';
import { step } from './lib/progress.js';
import { loadSyntheticStudies } from './lib/synthetic-studies.js';
import { GATEWAY_NODE_FLAGS } from '../gateway/node-flags.js';

const wrkSeconds = Number(process.env.BENCH_WRK_SECONDS ?? 7);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 8);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const decisions = Number(process.env.BENCH_DECISIONS ?? 3000);
const soakSeconds = Number(process.env.BENCH_SOAK_SECONDS ?? 0);
/** Shorter than a PACS token lives (TOKEN_TTL_SECONDS, 300 by default). */
const SOAK_SLICE_SECONDS = 120;
const profileDir = process.env.BENCH_GATEWAY_PROFILE_DIR;
const gatewayWorkers = Number(process.env.BENCH_GATEWAY_WORKERS ?? 1);
const split = process.env.BENCH_SPLIT === '1';

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

/** What every process here that talks to the PACS is told about it. */
const pacsEnv = { PACS_DICOMWEB_URL: orthanc.dicomwebUrl, PACS_USERNAME: orthanc.username, PACS_PASSWORD: orthanc.password };
/** A gateway process's settings (the deployed gateway's, and the split design's decider's): its port and journal of its own. */
const gatewayEnv = (port: number, journal: string) => ({
  ...process.env,
  ...pacsEnv,
  GATEWAY_PORT: String(port),
  TOKEN_ISSUER: api,
  DATABASE_URL: servers.databaseUrl,
  ACCESS_JOURNAL_DIR: path.join(workDir, journal),
  LOG_LEVEL: 'warn',
});

// The gateway in its own process, as deployed.
const gatewayPort = await freePort();
const gatewayProcess = startProcess(
  'gateway',
  process.execPath,
  [
    ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : []),
    ...GATEWAY_NODE_FLAGS,
    ...(process.env.BENCH_GATEWAY_NODE_FLAGS ?? '').split(' ').filter(Boolean),
    '--import',
    'tsx',
    path.resolve(gatewayWorkers > 1 ? 'scripts/bench/cluster-gateway.ts' : 'gateway/main.ts'),
  ],
  {
    logFile: path.join(workDir, 'gateway.log'),
    env: { ...gatewayEnv(gatewayPort, 'journal'), BENCH_GATEWAY_WORKERS: String(gatewayWorkers) },
  },
);
const gateway = `http://127.0.0.1:${gatewayPort}`;
await waitFor('the gateway', async () => (await fetch(`${gateway}/healthz`)).ok, { process: gatewayProcess });

// Node's own floor: a bare node:http proxy with the gateway's PACS client, nothing checked.
const floorPort = await freePort();
const floorProcess = startProcess('node-floor-proxy', process.execPath, ['--import', 'tsx', path.resolve('scripts/bench/node-floor-proxy.ts')], {
  logFile: path.join(workDir, 'node-floor-proxy.log'),
  env: { ...process.env, ...pacsEnv, FLOOR_PORT: String(floorPort) },
});
await waitFor('the bare Node proxy', () => isPortOpen(floorPort), { process: floorProcess });

const basic = `Basic ${Buffer.from(`${orthanc.username}:${orthanc.password}`).toString('base64')}`;
const nginxDir = scratchDir('iar-bench-nginx-');
const nginx = await startNginxProxy({ dir: nginxDir, port: await freePort(), upstreamPort: orthancPort, authorization: basic });

// BENCH_SPLIT=1: the split design measured, nginx streaming and the gateway's checks deciding.
const splitParts = split ? await startSplit() : undefined;
async function startSplit() {
  const deciderPort = await freePort();
  const decider = startProcess('split-decider', process.execPath, ['--import', 'tsx', path.resolve('scripts/bench/split-decider.ts')], {
    logFile: path.join(workDir, 'split-decider.log'),
    env: { ...gatewayEnv(deciderPort, 'split-journal'), GATEWAY_ID: 'bench-split-decider' },
  });
  await waitFor('the split design’s decider', () => isPortOpen(deciderPort), { process: decider });
  const front = await startNginxProxy({
    dir: scratchDir('iar-bench-split-'),
    port: await freePort(),
    upstreamPort: orthancPort,
    authorization: basic,
    deciderPort,
  });
  return { decider, front };
}

/** The gateway's resident memory in MiB: the process and any children it forked. */
const gatewayRssMiB = () => rssMiB(processTree(gatewayProcess.child.pid!));

/** CPU seconds used so far by Orthanc and each proxy, each with its children. */
function cpuNow(): Record<'orthanc' | Exclude<Target, 'direct'>, number> {
  return {
    orthanc: cpuSeconds(processTree(orthanc.process.child.pid!)),
    nginx: cpuSeconds(processTree(nginx.process.child.pid!)),
    node: cpuSeconds(processTree(floorProcess.child.pid!)),
    gateway: cpuSeconds(processTree(gatewayProcess.child.pid!)),
    split: splitParts ? cpuSeconds([...processTree(splitParts.front.process.child.pid!), ...processTree(splitParts.decider.child.pid!)]) : 0,
  };
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
const targets: Record<Target, { base: string; authorization: string } | undefined> & Record<Exclude<Target, 'split'>, { base: string; authorization: string }> =
  {
    direct: { base: orthanc.dicomwebUrl, authorization: basic },
    nginx: { base: `${nginx.url}/dicom-web`, authorization: `Bearer ${token}` },
    node: { base: `http://127.0.0.1:${floorPort}/dicom-web`, authorization: `Bearer ${token}` },
    gateway: { base: `${gateway}/dicom-web`, authorization: `Bearer ${token}` },
    split: splitParts ? { base: `${splitParts.front.url}/dicom-web`, authorization: `Bearer ${token}` } : undefined,
  };
/** A fresh PACS token for every target that is sent one. */
async function renewToken(): Promise<void> {
  const { access_token: renewed } = await post(`/api/access-requests/${id}/tokens`, alice, {});
  for (const target of ['nginx', 'node', 'gateway', 'split'] as const) {
    const t = targets[target];
    if (t) t.authorization = `Bearer ${renewed}`;
  }
}
const CPU_HEADER =
  [
    '| route | direct: Orthanc | nginx: Orthanc / nginx | bare Node proxy: ÷ direct, Orthanc / Node | gateway: Orthanc / gateway | gateway ÷ nginx',
    '| split (BENCH_SPLIT=1): ÷ direct, p99 ms; Orthanc / nginx + decider |',
  ].join(' ') + '\n|---|---|---|---|---|---|---|';
type Target = 'direct' | 'nginx' | 'node' | 'gateway' | 'split';
/** The targets this run measures: the split design only with BENCH_SPLIT=1. */
const measured = (Object.keys(targets) as Target[]).filter((target) => targets[target]);
/** The split design decides streamed routes only: rendered images and instances carry the gateway's marks. */
const targetsFor = (route: string) => measured.filter((target) => target !== 'split' || !['instance', 'rendered'].includes(route));
const targetOf = (target: Target) => targets[target]!;
/** A wrk run and the CPU time per answer, µs, of Orthanc and of the proxy measured (none direct). */
type Measured = WrkResult & { cpu: { orthanc: number; proxy: number } };
type Rounds = Record<Exclude<Target, 'split'>, Measured> & { split?: Measured };

// Every target answers every route before anything is timed.
const sizes = new Map<string, number>();
for (const [name, p] of routes) {
  for (const target of targetsFor(name)) {
    const { base, authorization } = targetOf(target);
    const response = await fetch(`${base}${p}`, { headers: { authorization } });
    const body = Buffer.from(await response.arrayBuffer());
    if (!response.ok) throw new Error(`${name} through ${target}: ${response.status} ${body.toString('utf8', 0, 200)}`);
    if (target === 'direct') sizes.set(name, body.length);
  }
}

try {
  /** One wrk run, with the CPU time each server spent on it per answer (µs). */
  const run = async (target: Target, p: string, seconds: number): Promise<Measured> => {
    const before = cpuNow();
    const result = await wrk(`${targetOf(target).base}${p}`, { seconds, connections, headers: { authorization: targetOf(target).authorization } });
    const after = cpuNow();
    const perAnswer = (server: keyof typeof before) => ((after[server] - before[server]) * 1e6) / Math.max(1, result.requests);
    return { ...result, cpu: { orthanc: perAnswer('orthanc'), proxy: target === 'direct' ? 0 : perAnswer(target) } };
  };
  step('warming up...');
  for (const [name, p] of routes) for (const target of targetsFor(name)) await run(target, p, 2);
  const rssStart = gatewayRssMiB();
  const results = new Map<string, Rounds[]>(routes.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, p] of routes) {
      // A token lives 5 minutes and a whole run is longer: renewed as a viewer renews its own.
      await renewToken();
      const round = {} as Rounds;
      for (const target of targetsFor(name)) {
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
      await renewToken();
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
  const cpuRows: string[] = [];
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
      cpuRows.push(
        [
          r === 0 ? name : '',
          f0(x.direct.cpu.orthanc),
          `${f0(x.nginx.cpu.orthanc)} / ${f0(x.nginx.cpu.proxy)}`,
          `${f2(x.node.perSecond / x.direct.perSecond)}, ${f0(x.node.cpu.orthanc)} / ${f0(x.node.cpu.proxy)}`,
          `${f0(x.gateway.cpu.orthanc)} / ${f0(x.gateway.cpu.proxy)}`,
          f2(x.gateway.cpu.proxy / Math.max(1, x.nginx.cpu.proxy)),
          x.split ? `${f2(x.split.perSecond / x.direct.perSecond)}, p99 ${f1(x.split.p99)}; ${f0(x.split.cpu.orthanc)} / ${f0(x.split.cpu.proxy)}` : '',
        ].join(' | '),
      );
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
interleaved (direct, nginx, bare Node proxy, gateway); one instance of a 256×256 CT
load average at the end: ${os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(', ')} on ${os.cpus().length} cores; gateway RSS ${f0(rssStart)} MiB after warm-up, ${f0(rssEnd)} MiB after the rounds

| route | direct req/s | nginx ÷ direct | gateway ÷ direct | direct p50 / p99 ms | nginx p50 / p99 ms | gateway p50 / p99 ms | goal |
|---|---|---|---|---|---|---|---|
${rows.map((row) => `| ${row} |`).join('\n')}

CPU time per answer, µs (user + system, from /proc; the proxy with its children):

${CPU_HEADER}
${cpuRows.map((row) => `| ${row} |`).join('\n')}
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
  await floorProcess.stop();
  await splitParts?.front.process.stop();
  await splitParts?.decider.stop();
  await orthanc.process.stop();
  await servers.close();
}
