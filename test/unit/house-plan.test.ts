import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type IReporterOutput } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import { describe, expect, it } from 'vitest';

// The import check must fail when a folder imports against the plan: run it over a small
// tree made of exactly such imports, and over the real tree.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURE = path.join(ROOT, 'test/fixtures/house-plan');
const SOURCE_FOLDERS = ['domain', 'contracts', 'config', 'db', 'pacs', 'tokens', 'audit', 'activities', 'workflows', 'api', 'gateway', 'worker'];

async function violations(baseDir: string, folders: string[]) {
  const options = await extractDepcruiseOptions(path.join(ROOT, '.dependency-cruiser.cjs'));
  const result: IReporterOutput = await cruise(folders, { ...options, baseDir, validate: true }, undefined, {
    tsConfig: { fileName: path.join(ROOT, 'tsconfig.json') },
  });
  if (typeof result.output === 'string') throw new Error('expected a structured result');
  return result.output.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
}

describe('the house plan', () => {
  it('refuses each kind of import against the plan', async () => {
    const found = await violations(FIXTURE, ['api', 'gateway', 'workflows', 'activities', 'audit', 'config']);
    expect(found.sort()).toEqual(
      [
        'audit-config-only-in-its-cli: audit/read/configured.ts → config/settings.ts',
        'audit-formats-stand-alone: audit/formats/message.ts → audit/read/timeline.ts',
        'plan-gateway: gateway/proxy.ts → api/routes.ts',
        'workflow-code-is-deterministic: workflows/reaches-for-node.ts → crypto',
        'workflows-use-activity-types-only: workflows/reaches-for-node.ts → activities/records.ts',
      ].sort(),
    );
  });

  it('holds for the project itself', async () => {
    expect(await violations(ROOT, SOURCE_FOLDERS)).toEqual([]);
  });
});
