// For `npm run bench:gateway` with BENCH_GATEWAY_WORKERS > 1 only: gateway/main.ts in that
// many processes sharing one port through node:cluster, each with its own journal directory
// and gateway id (a journal has one writer). A measurement of whether a second core helps,
// not the deployed gateway: gateway/main.ts is one process.
import cluster from 'node:cluster';
import path from 'node:path';

const workers = Number(process.env.BENCH_GATEWAY_WORKERS ?? 2);
if (cluster.isPrimary) {
  const journalDir = process.env.ACCESS_JOURNAL_DIR ?? '.data/journal';
  const gatewayId = process.env.GATEWAY_ID ?? 'bench-gateway';
  for (let i = 0; i < workers; i++) {
    cluster.fork({ ACCESS_JOURNAL_DIR: path.join(journalDir, `worker-${i}`), GATEWAY_ID: `${gatewayId}-${i}` });
  }
  const stop = () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} else {
  await import('../../gateway/main.js');
}
