// The gateway process for `npm run bench:dicom-tag`: the deployed gateway's wiring, with
// `--untagged` giving the benchmark its baseline (instances pass through unmarked). Only the
// benchmark starts this file; the deployed gateway (gateway/main.ts) has no such switch.
import { serveGateway } from '../../gateway/serve.js';

await serveGateway({ untaggedDicomForBenchmark: process.argv.includes('--untagged') });
