import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointDue, signCheckpoint, verifyCheckpoints } from '../../audit/evidence/checkpoints.js';
import { loadHistory } from '../../audit/read/case-timeline.js';
import { verifyEvidenceBundle, type SignedEvidenceBundle } from '../../audit/evidence/evidence-bundle.js';
import { replayCase } from '../../audit/evidence/replay-case.js';
import { ROOT, scratchDir } from '../../scripts/lib/ephemeral-servers.js';
import { startApi, submission, type ApiHarness } from '../support/api-harness.js';
import { auditCli } from '../support/audit-cli.js';

let api: ApiHarness;
let caseId: string;
let frank: string;
let jti: string;
const dir = scratchDir('iar-evidence-');

const cli = auditCli;

beforeAll(async () => {
  api = await startApi();
  frank = await api.login('aud.frank');
  const alice = await api.login('clin.alice');
  caseId = (await api.call('POST', '/api/access-requests', { token: alice, body: submission({ purposeOfUse: 'TRAIN' }) })).body.id;
  await api.call('POST', `/api/access-requests/${caseId}/reviews`, { token: await api.login('sup.carol'), body: { decision: 'approve' } });
  await api.call('POST', `/api/access-requests/${caseId}/reviews`, { token: await api.login('priv.dave'), body: { decision: 'approve' } });
  jti = decodeJwt((await api.call('POST', `/api/access-requests/${caseId}/tokens`, { token: alice })).body.access_token).jti!;
  await api.call('POST', `/api/access-requests/${caseId}/revoke`, { token: alice, body: { reason: 'teaching session over' } });
  await api.temporal.workflow.getHandle(caseId).result();
});
afterAll(() => api.close());

describe('evidence bundles', () => {
  it('export signed, verify offline with the published keys, and fail on one changed byte', async () => {
    const response = await api.call('GET', `/api/cases/${caseId}/evidence`, { token: frank });
    expect(response.status).toBe(200);
    const signed = response.body as SignedEvidenceBundle;
    expect(signed.bundle.case).toMatchObject({ id: caseId, status: 'REVOKED' });
    expect(signed.bundle.records.issuedTokens).toEqual([expect.objectContaining({ jti })]);
    expect(signed.bundle.history.source).toBe('live');
    expect(signed.bundle.chain.events.filter((e) => e.accessRequestId === caseId).map((e) => e.type)).toEqual(
      expect.arrayContaining(['access_request.submitted', 'review.recorded', 'token.issued', 'grant.revoked']),
    );
    const keys = (await api.call('GET', '/.well-known/audit-keys.json')).body;
    expect(await verifyEvidenceBundle(signed, keys)).toEqual({ ok: true, problems: [] });

    const file = path.join(dir, 'bundle.json');
    const text = JSON.stringify(signed, null, 2);
    writeFileSync(file, text);
    writeFileSync(path.join(dir, 'keys.json'), JSON.stringify(keys));
    const verified = await cli(['verify', file, '--keys', path.join(dir, 'keys.json')]);
    expect(verified.stdout).toContain('bundle verified');
    expect(verified.code).toBe(0);

    // One changed byte: a digit of a reviewer's approval time.
    const at = text.indexOf('"reviewedAt": "') + '"reviewedAt": "'.length + 3;
    const tampered = text.slice(0, at) + (text[at] === '1' ? '2' : '1') + text.slice(at + 1);
    expect(tampered).not.toBe(text);
    writeFileSync(path.join(dir, 'tampered.json'), tampered);
    const refused = await cli(['verify', path.join(dir, 'tampered.json'), '--keys', `${api.url}/.well-known/audit-keys.json`]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('changed after export');
    expect((await verifyEvidenceBundle(JSON.parse(tampered), keys)).ok).toBe(false);

    // A forger who re-signs with a key of their own is refused too.
    const foreign = { keys: [{ ...keys.keys[0], x: keys.keys[0].y, y: keys.keys[0].x }] };
    expect((await verifyEvidenceBundle(signed, foreign)).ok).toBe(false);
  });

  it('is refused to everyone but auditors', async () => {
    for (const name of ['clin.alice', 'sec.grace', 'priv.dave']) {
      expect((await api.call('GET', `/api/cases/${caseId}/evidence`, { token: await api.login(name) })).status, name).toBe(403);
    }
  });

  it('comes from the CLI too, signed with the same keys', async () => {
    const out = path.join(dir, 'cli-bundle.json');
    const exported = await cli(['export', caseId, '--out', out]);
    expect(exported.code, exported.stderr).toBe(0);
    const keys = (await api.call('GET', '/.well-known/audit-keys.json')).body;
    expect(await verifyEvidenceBundle(JSON.parse(readFileSync(out, 'utf8')), keys)).toEqual({ ok: true, problems: [] });
  });
});

describe('checkpoints', () => {
  it('are signed once a case has closed, and verify against the chain', async () => {
    // One pass of the audit-checkpoint workflow, without the workflow (test/e2e/background-work.test.ts runs it).
    if (await checkpointDue(api.db, 3_600_000)) await signCheckpoint(api.db, api.keys);
    const head = await api.db.auditChainHead.findUniqueOrThrow({ where: { id: 1 } });
    const latest = await api.db.auditCheckpoint.findFirstOrThrow({ orderBy: { seq: 'desc' } });
    // Other test files append concurrently; the checkpoint is at or just behind the head.
    expect(latest.seq).toBeLessThanOrEqual(head.headSeq);
    expect((await verifyCheckpoints(api.db, await api.keys.auditKeys())).ok).toBe(true);
  });
});

describe('replay', () => {
  it('reproduces a case’s recorded decisions with the current code, and reports a determinism failure as a finding', async () => {
    const { history } = await loadHistory(api.temporal, api.db, caseId);
    const reproduced = await replayCase(caseId, history!);
    expect(reproduced).toMatchObject({ caseId, result: 'reproduced', recordedOutcome: 'REVOKED' });
    const changed = path.join(ROOT, 'test', 'fixtures', 'nondeterministic-workflow', 'index.ts');
    const finding = await replayCase(caseId, history!, { workflowsPath: changed });
    expect(finding.result).toBe('determinism-failure');
    expect(finding.detail).toMatch(/determinism/i);
  });

  it('runs from the CLI on a case id and on a history file', async () => {
    const byId = await cli(['replay', caseId]);
    expect(byId.code, byId.stderr).toBe(0);
    expect(JSON.parse(byId.stdout)).toMatchObject({ result: 'reproduced', recordedOutcome: 'REVOKED' });
    const byFile = await cli(['replay', path.join(ROOT, 'test', 'histories', 'denied.json')]);
    expect(JSON.parse(byFile.stdout)).toMatchObject({ result: 'reproduced', recordedOutcome: 'DENIED' });
  });
});

describe('the CLI', () => {
  it('prints a timeline and who accessed a study, and explains itself', async () => {
    const timeline = await cli(['timeline', caseId, '--json']);
    expect(timeline.code, timeline.stderr).toBe(0);
    const parsed = JSON.parse(timeline.stdout) as { entries: { kind: string }[] };
    expect(parsed.entries.map((e) => e.kind)).toEqual(expect.arrayContaining(['workflow.started', 'grant.revoked', 'workflow.completed']));
    const who = await cli(['who-accessed', '--study', '1.2.826.0.1.3680043.8.498.10001', '--json']);
    expect(who.code, who.stderr).toBe(0);
    expect(Array.isArray(JSON.parse(who.stdout))).toBe(true);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('who-accessed --study');
    const bad = await cli(['who-accessed']);
    expect(bad.code).toBe(2);
  });
});
