// bench:freeze's gateway poller, in a process of its own (node --import tsx, forked with an
// IPC channel): the API it measures runs in the benchmark's process, and its revocations must
// not hold up the requests that time the gateway. Asks the gateway with every token, over
// and over, until each is refused.
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface PollerInput {
  url: string;
  tokens: string[];
  concurrency: number;
  timeoutMs: number;
  /** Titles of the refusals being waited for; any other answer is counted and asked again. */
  expected: string[];
}

/** Times in ms from `since` (epoch ms, sub-millisecond): the API's 201. */
export interface PollerResult {
  firstRefused: number[];
  lastServedSent: number[];
  titles: Record<string, number>;
  others: Record<string, number>;
  passes: { pending: number; seconds: number }[];
  notRefused: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

/** What the poller tells the benchmark: ready for the start, then the result. */
export type PollerMessage = { kind: 'ready' } | { kind: 'result'; result: PollerResult };

let input: PollerInput;
let expected: Set<string>;
const now = () => performance.timeOrigin + performance.now();

async function ask(token: string): Promise<{ status: number; title?: string }> {
  const response = await fetch(input.url, { headers: { authorization: `Bearer ${token}`, accept: 'application/dicom+json' } });
  if (response.status === 200) {
    await response.arrayBuffer();
    return { status: 200 };
  }
  const body = (await response.json().catch(() => ({}))) as { title?: string };
  return { status: response.status, title: body.title };
}

async function poll(since: number): Promise<PollerResult> {
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const elapsed = () => now() - since;
  const total = input.tokens.length;
  const firstRefused = new Array<number>(total).fill(NaN);
  const lastServedSent = new Array<number>(total).fill(NaN);
  const titles: Record<string, number> = {};
  const others: Record<string, number> = {};
  const passes: PollerResult['passes'] = [];
  let pending = input.tokens.map((_, i) => i);
  while (pending.length && elapsed() < input.timeoutMs) {
    const round = pending;
    const still: number[] = [];
    const started = now();
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(input.concurrency, round.length) }, async () => {
        while (next < round.length) {
          const i = round[next++]!;
          const sent = elapsed();
          const answer = await ask(input.tokens[i]!);
          if (answer.status === 200) {
            lastServedSent[i] = sent;
            still.push(i);
          } else if (answer.status === 403 && answer.title && expected.has(answer.title)) {
            firstRefused[i] = elapsed();
            titles[answer.title] = (titles[answer.title] ?? 0) + 1;
          } else {
            const what = `${answer.status} ${answer.title ?? ''}`.trim();
            others[what] = (others[what] ?? 0) + 1;
            still.push(i);
          }
        }
      }),
    );
    passes.push({ pending: round.length, seconds: (now() - started) / 1000 });
    pending = still;
  }
  lag.disable();
  return {
    firstRefused,
    lastServedSent,
    titles,
    others,
    passes,
    notRefused: pending.length,
    loopDelayP99Ms: lag.percentile(99) / 1e6,
    loopDelayMaxMs: lag.max / 1e6,
  };
}

// First the tokens and settings, then (once the API answered 201) when to count from, in epoch ms.
const send = (message: PollerMessage) =>
  new Promise<void>((resolve, reject) => process.send!(message, undefined, {}, (error) => (error ? reject(error) : resolve())));
process.on('message', (message: PollerInput | { since: number }) => {
  if ('since' in message) {
    void poll(message.since)
      .then((result) => send({ kind: 'result', result }))
      .finally(() => process.disconnect());
    return;
  }
  input = message;
  expected = new Set(input.expected);
  void send({ kind: 'ready' });
});
