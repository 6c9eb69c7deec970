import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GATEWAY_NODE_FLAGS } from '../../gateway/node-flags.js';
import { ROOT } from '../../scripts/lib/ephemeral-servers.js';

// package.json's `gateway` script cannot import gateway/node-flags.ts: it repeats the flags,
// and this keeps the copy from drifting (npm start's own use is checked in embedded-start).
describe('the gateway’s node flags', () => {
  it('are all on package.json’s gateway script, before the script it runs', () => {
    const script = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.gateway!;
    const words = script.split(/\s+/);
    expect(words[0]).toBe('node');
    for (const flag of GATEWAY_NODE_FLAGS) {
      expect(words).toContain(flag);
      expect(words.indexOf(flag)).toBeLessThan(words.indexOf('gateway/main.ts'));
    }
  });
});
