// npm run bench:cycle — N concurrent full cycles (submit, two approvals, first token) on
// local servers, beside a no-op workflow (start → result) on the same server in the same
// run. Ratios only: absolute figures on a shared 2-core machine are noise.
import { NativeConnection, Worker } from '@temporalio/worker';
import { startBenchServers } from './bench/bench-servers.js';
import { measure, type RunStats } from './bench/stats.js';
import path from 'node:path';
import { scratchDir, TEMPORAL_KIND_NAMES, type TemporalKind } from './lib/ephemeral-servers.js';
import { freePort } from './lib/processes.js';
import { startOrthanc } from './lib/orthanc-server.js';
import { step } from './lib/progress.js';
import { loadSyntheticStudies } from './lib/synthetic-studies.js';

const cycles = Number(process.env.BENCH_CYCLES ?? 200);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 20);

// The API confirms each submitted study's patient with the PACS: the synthetic catalogue's first study.
const pacsDir = scratchDir('iar-bench-pacs-');
const orthanc = await startOrthanc({ dataDir: pacsDir, httpPort: await freePort(), logFile: path.join(pacsDir, 'orthanc.log') });
const [study] = await loadSyntheticStudies(orthanc);
// Both servers by default, one after the other, each with its own database and worker:
// BENCH_TEMPORAL=dev or =postgres runs one.
const chosen = process.env.BENCH_TEMPORAL;
if (chosen !== undefined && !(chosen in TEMPORAL_KIND_NAMES)) {
  process.stderr.write(`BENCH_TEMPORAL must be one of ${Object.keys(TEMPORAL_KIND_NAMES).join(', ')}; got "${chosen}".\n`);
  process.exit(2);
}
// A server of one's own (TEMPORAL_ADDRESS) is measured once, named as what it is.
const kinds = process.env.TEMPORAL_ADDRESS
  ? (['dev'] as TemporalKind[])
  : chosen
    ? [chosen as TemporalKind]
    : (Object.keys(TEMPORAL_KIND_NAMES) as TemporalKind[]);
const serverName = (kind: TemporalKind) => (process.env.TEMPORAL_ADDRESS ? `the Temporal server at TEMPORAL_ADDRESS` : TEMPORAL_KIND_NAMES[kind]);
const reports: string[] = [];
for (const kind of kinds) {
  step(`bench:cycle on the ${serverName(kind)}...`);
  reports.push(await benchOn(kind));
}
process.stdout.write(`\n${reports.join('\n')}`);
await orthanc.process.stop();

async function benchOn(kind: TemporalKind): Promise<string> {
  const servers = await startBenchServers(
    `bench-cycle-${kind}`,
    {
      // One clinician and two reviewers run every cycle: the per-user limits would be the bound.
      TOKEN_RATE_LIMIT_PER_MINUTE: '600',
      SUBMISSION_RATE_LIMIT_PER_MINUTE: '10000',
      REVIEW_RATE_LIMIT_PER_MINUTE: '10000',
      DEV_LOGIN_RATE_LIMIT_PER_MINUTE: '10000',
      PACS_DICOMWEB_URL: orthanc.dicomwebUrl,
      PACS_USERNAME: orthanc.username,
      PACS_PASSWORD: orthanc.password,
    },
    kind,
  );
  const { post, login, runtime } = servers;
  // The baseline's worker: same server, no database.
  const noopConnection = await NativeConnection.connect({ address: servers.temporalAddress });
  const noopWorker = await Worker.create({
    connection: noopConnection,
    taskQueue: 'bench-noop',
    workflowsPath: new URL('./bench/noop-workflow.ts', import.meta.url).pathname,
  });
  const noopRun = noopWorker.run();
  const [alice, carol, dave] = await Promise.all(['clin.alice', 'sup.carol', 'priv.dave'].map(login));

  async function cycle(): Promise<void> {
    const { id } = await post('/api/access-requests', alice, {
      studyInstanceUids: [study!.studyInstanceUid],
      patientId: study!.patientId,
      purposeOfUse: 'TREAT',
      justification: 'benchmark of the full review cycle',
      durationMinutes: 60,
    });
    await post(`/api/access-requests/${id}/reviews`, carol, { decision: 'approve' });
    await post(`/api/access-requests/${id}/reviews`, dave, { decision: 'approve' });
    await post(`/api/access-requests/${id}/tokens`, alice, {});
  }

  async function noop(i: number): Promise<void> {
    await runtime.temporal.workflow.execute('noopWorkflow', { taskQueue: 'bench-noop', workflowId: `noop-${Date.now()}-${i}` });
  }

  step('warming up...');
  await measure(10, 5, noop);
  await measure(5, 5, cycle);
  step(`measuring ${cycles} no-op workflows and ${cycles} full cycles, ${concurrency} at a time...`);
  const baseline = await measure(cycles, concurrency, noop);
  const full = await measure(cycles, concurrency, cycle);

  noopWorker.shutdown();
  await noopRun;
  await noopConnection.close();
  await servers.close();

  const row = (name: string, s: RunStats) =>
    `${name.padEnd(38)} ${s.p50.toFixed(1).padStart(9)} ${s.p99.toFixed(1).padStart(9)} ${s.perSecond.toFixed(1).padStart(9)}`;
  const ratios = [
    `p50 ×${(full.p50 / baseline.p50).toFixed(1)}`,
    `p99 ×${(full.p99 / baseline.p99).toFixed(1)}`,
    `throughput ×${(full.perSecond / baseline.perSecond).toFixed(2)}`,
  ].join('   ');
  const postgres = process.env.DATABASE_URL ? 'at DATABASE_URL' : 'private cluster';
  return `bench:cycle  (${cycles} runs, concurrency ${concurrency}; PostgreSQL ${postgres}, ${serverName(kind)})
${'run'.padEnd(38)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'per s'.padStart(9)}
${row('no-op workflow (start → result)', baseline)}
${row('full cycle (submit, 2 reviews, token)', full)}
ratio full / no-op:  ${ratios}
`;
}
