// npm run bench:gateway — the same WADO-RS requests (instance retrieval and frames) sent
// straight to Orthanc and through the gateway in the same run, and authorization decisions
// per second (cached token, first-seen token) against bare crypto.verify on the same token.
// Ratios only: absolute figures on a shared 2-core machine are noise.
import { createPublicKey, verify } from 'node:crypto';
import path from 'node:path';
import { createLocalJWKSet } from 'jose';
import { TokenVerifier } from '../gateway/token-verifier.js';
import { signPacsToken } from '../tokens/pacs-token.js';
import { startBenchServers } from './bench/bench-servers.js';
import { measure, type RunStats } from './bench/stats.js';
import { startOrthanc } from './lib/orthanc-server.js';
import { scratchDir } from './lib/ephemeral-servers.js';
import { freePort, startProcess, waitFor } from './lib/processes.js';
import { step } from './lib/progress.js';
import { loadSyntheticStudies } from './lib/synthetic-studies.js';

const requests = Number(process.env.BENCH_REQUESTS ?? 2000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const decisions = Number(process.env.BENCH_DECISIONS ?? 3000);

// The PACS first: the API confirms each study's patient with it at submission.
const pacsDir = scratchDir('iar-bench-pacs-');
const orthanc = await startOrthanc({ dataDir: pacsDir, httpPort: await freePort(), logFile: path.join(pacsDir, 'orthanc.log') });
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
const gatewayProcess = startProcess('gateway', process.execPath, ['--import', 'tsx', path.resolve('gateway/main.ts')], {
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
  },
});
const gateway = `http://127.0.0.1:${gatewayPort}`;
await waitFor('the gateway', async () => (await fetch(`${gateway}/healthz`)).ok, { process: gatewayProcess });

const series = study!.series[0]!;
const instancePaths = series.instances.map((i) => `/studies/${study!.studyInstanceUid}/series/${series.seriesInstanceUid}/instances/${i}`);
const basic = `Basic ${Buffer.from(`${orthanc.username}:${orthanc.password}`).toString('base64')}`;
async function get(url: string, authorization: string): Promise<void> {
  const response = await fetch(url, { headers: { authorization, 'accept-encoding': 'identity' } });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
}
const kinds = {
  'instance (WADO-RS)': (i: number) => instancePaths[i % instancePaths.length]!,
  'frame (WADO-RS /frames/1)': (i: number) => `${instancePaths[i % instancePaths.length]}/frames/1`,
};

step('warming up...');
for (const pathOf of Object.values(kinds)) {
  await measure(50, 4, (i) => get(`${orthanc.dicomwebUrl}${pathOf(i)}`, basic));
  await measure(50, 4, (i) => get(`${gateway}/dicom-web${pathOf(i)}`, `Bearer ${token}`));
}
const rows: string[] = [];
const fmt = (s: RunStats) => `${s.p50.toFixed(2).padStart(8)} ${s.p99.toFixed(2).padStart(8)} ${s.perSecond.toFixed(0).padStart(8)}`;
for (const [name, pathOf] of Object.entries(kinds)) {
  step(`measuring ${name}: ${requests} requests, ${concurrency} at a time, direct and through the gateway...`);
  const direct = await measure(requests, concurrency, (i) => get(`${orthanc.dicomwebUrl}${pathOf(i)}`, basic));
  const through = await measure(requests, concurrency, (i) => get(`${gateway}/dicom-web${pathOf(i)}`, `Bearer ${token}`));
  rows.push(`${name.padEnd(28)} direct  ${fmt(direct)}`);
  const ratio = (of: number, to: number) => (of / to).toFixed(2);
  const ratios = [
    `ratio p50 ×${ratio(through.p50, direct.p50)}`,
    `p99 ×${ratio(through.p99, direct.p99)}`,
    `throughput ×${ratio(through.perSecond, direct.perSecond)}`,
  ].join('  ');
  rows.push(`${''.padEnd(28)} gateway ${fmt(through)}   ${ratios}`);
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
async function perSecond(run: (i: number) => Promise<unknown> | unknown): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < decisions; i++) await run(i);
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

process.stdout.write(`
bench:gateway  (${requests} requests per run, concurrency ${concurrency}; Orthanc ${'1.10'} on loopback; gateway in its own process)
${'request'.padEnd(28)} ${'path'.padEnd(7)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'per s'.padStart(8)}
${rows.join('\n')}

authorization decisions per second (${decisions} tokens, one core):
  bare crypto.verify (ES256)       ${bare.toFixed(0).padStart(9)}   ×1.00
  gateway, first-seen token        ${firstSeen.toFixed(0).padStart(9)}   ×${(firstSeen / bare).toFixed(2)}
  gateway, cached token            ${cached.toFixed(0).padStart(9)}   ×${(cached / bare).toFixed(2)}
`);

await gatewayProcess.stop();
await orthanc.process.stop();
await servers.close();
