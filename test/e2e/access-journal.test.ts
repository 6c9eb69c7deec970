import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../config/logger.js';
import { openRecordsPool } from '../../db/access-records.js';
import type { AccessRecord } from '../../contracts/access-record.js';
import { AccessJournal } from '../../gateway/access-journal.js';
import { freePort } from '../../scripts/lib/processes.js';
import { scratchDir } from '../../scripts/lib/ephemeral-servers.js';
import type { OrthancServer } from '../../scripts/lib/orthanc-server.js';
import { ensureClinician, startApi, type ApiHarness } from '../support/api-harness.js';
import { grantAndToken, pacsEnv, startGateway, startPacs } from '../support/gateway-harness.js';

const log = createLogger('journal-test', 'silent');
let api: ApiHarness;
let orthanc: OrthancServer;

beforeAll(async () => {
  ({ orthanc } = await startPacs());
  api = await startApi(pacsEnv(orthanc));
  await ensureClinician(api, 'clin.jules', 'Jules (clinician, journal tests)');
});
afterAll(async () => {
  await orthanc?.process.stop();
  await api?.close();
});

function entry(gatewayId: string, i: number): AccessRecord {
  return {
    id: randomUUID(),
    occurredAt: new Date().toISOString(),
    gatewayId,
    username: 'clin.jules',
    grantId: null,
    jti: null,
    study: null,
    series: null,
    instance: null,
    route: 'wado:metadata',
    method: 'GET',
    path: `/dicom-web/studies/1.2.${i}`,
    status: 200,
    bytes: i,
    durationMs: 1,
    outcome: 'served',
    reason: null,
    clientIp: '127.0.0.1',
  };
}

describe('the access journal', () => {
  it('keeps records while the database is down, and a restarted gateway delivers them once', async () => {
    const dir = scratchDir('iar-journal-');
    const gatewayId = `journal-${randomUUID().slice(0, 8)}`;
    const down = openRecordsPool(`postgresql://nobody@127.0.0.1:${await freePort()}/none`, () => undefined);
    const first = new AccessJournal(down, dir, log);
    for (let i = 0; i < 50; i++) first.record(entry(gatewayId, i));
    await first.flush(); // fails: the database is unreachable
    // The process dies here: no close(), no final flush.
    await down.end().catch(() => undefined);

    const records = openRecordsPool(api.config.databaseUrl, () => undefined);
    try {
      const second = new AccessJournal(records, dir, log);
      await second.flush();
      expect(await api.db.gatewayAccessRecord.count({ where: { gatewayId } })).toBe(50);

      // A crash after the insert but before the offset was saved: the batch is sent again.
      writeFileSync(path.join(dir, 'access.offset'), '0');
      const third = new AccessJournal(records, dir, log);
      await third.flush();
      await third.close();
    } finally {
      await records.end();
    }
    expect(await api.db.gatewayAccessRecord.count({ where: { gatewayId } })).toBe(50);
  });

  it('drops nothing under load through the gateway', async () => {
    const gateway = await startGateway(api, orthanc);
    try {
      const { token } = await grantAndToken(api, ['1.2.826.0.1.3680043.8.498.1'], 'clin.jules');
      const { jti } = decodeJwt(token) as { jti: string };
      const requests = 300;
      const statuses: number[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 30 }, async () => {
          while (next < requests) {
            const i = next++;
            // Alternate served and refused requests.
            const path = i % 3 === 2 ? '/dicom-web/studies/1.2.826.0.1.3680043.8.498.3/metadata' : '/dicom-web/studies/1.2.826.0.1.3680043.8.498.1/metadata';
            const response = await fetch(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
            await response.arrayBuffer();
            statuses.push(response.status);
          }
        }),
      );
      await gateway.journal.flush();
      const records = await api.db.gatewayAccessRecord.findMany({ where: { jti }, select: { status: true } });
      expect(records).toHaveLength(requests);
      expect(records.filter((r) => r.status === 200)).toHaveLength(statuses.filter((s) => s === 200).length);
      expect(records.filter((r) => r.status === 403)).toHaveLength(100);
    } finally {
      await gateway.close();
    }
  });
});
