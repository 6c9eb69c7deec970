import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../config/logger.js';
import type { AccessJournal } from '../../gateway/access-journal.js';
import { AccessRecorder } from '../../gateway/access-recorder.js';
import { createGateway, type GatewayDeps } from '../../gateway/app.js';
import { passThrough } from '../../gateway/delivery.js';
import { Refusal } from '../../gateway/refusal.js';
import type { PacsStream } from '../../pacs/dicomweb-client.js';

// A journal that cannot take a record (a full disk, a process stopping): nothing is served,
// the viewer gets an answer or a cut connection, and the gateway process lives on. Node ends a
// process on an unhandled rejection, and vitest fails a run that has one.

const broken = {
  record: () => {
    throw new Error('ENOSPC: no space left on device');
  },
} as unknown as AccessJournal;
const log = createLogger('journal-failure-test', 'silent');
let server: Server;
let url: string;

beforeAll(async () => {
  const deps = {
    gatewayId: 'test',
    journal: broken,
    log,
    tokens: {
      verify: () => Promise.reject(new Refusal(401, 'TOKEN_MISSING', 'No bearer token.')),
    },
  } as unknown as GatewayDeps;
  server = await new Promise((resolve) => {
    const s = createServer(createGateway(deps)).listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('a journal that cannot record', () => {
  it('turns a refusal it cannot record into a bare 500, and the gateway keeps answering', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${url}/dicom-web/studies`);
      expect(response.status).toBe(500);
      expect(response.headers.get('cache-control')).toBe('no-store');
      // The refusal's own headers were taken back with its body.
      expect(response.headers.get('www-authenticate')).toBeNull();
      expect(await response.text()).toBe('');
    }
    expect((await fetch(`${url}/healthz?probe=1`)).status).toBe(200);
  });

  it('makes a stream whose record fails reject, before its last piece is sent', async () => {
    const body = Readable.from([Buffer.alloc(1000, 1)]);
    const upstream = { status: 200, headers: { 'content-type': 'application/octet-stream', 'content-length': '1000' }, body } as unknown as PacsStream;
    let outcome: unknown;
    let ended = true;
    const probe = createServer((req, res) => {
      const access = new AccessRecorder({ journal: broken, gatewayId: 'test' }, req, res, '/x');
      passThrough(req, res, upstream, access).then(
        () => (outcome = 'resolved'),
        (error: unknown) => {
          outcome = error;
          ended = res.writableEnded;
          res.destroy();
        },
      );
    });
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    try {
      await fetch(`http://127.0.0.1:${(probe.address() as AddressInfo).port}/x`)
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
      expect(outcome).toBeInstanceOf(Error);
      expect((outcome as Error).message).toMatch(/ENOSPC/);
      expect(ended).toBe(false);
    } finally {
      probe.closeAllConnections();
      await new Promise((r) => probe.close(r));
    }
  });
});
