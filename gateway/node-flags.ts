// The flags the gateway's node process runs with, wherever it is started (scripts/start.ts,
// the benchmarks; package.json's `gateway` script repeats them). Measured with `npm run
// bench:gateway` and `--trace-gc` (README, gateway benchmark):
//
// --initial-old-space-size=128: under load V8 ran a major collection every 100–150 ms on a
// heap of about 30 MB that was not growing, a third of the gateway's CPU. Its old-generation
// limit sat only about 12 MB above the live heap, less than the young generation's capacity,
// so V8 started the next incremental marking as soon as the last one ended. With room for
// 128 MB the same run made 8 major collections instead of 89, and the gateway's CPU per
// answer fell by about a third. The heap may grow to that size between collections: resident
// memory stayed bounded, 283–368 MiB over a 6-minute soak (231–317 MiB before). Not settable
// through NODE_OPTIONS, hence a flag on the command line.
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=128'];
