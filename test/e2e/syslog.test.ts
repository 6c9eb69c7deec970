import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditForwarder } from '../../audit/forwarding/audit-forwarder.js';
import { rfc5424, SyslogSender } from '../../audit/forwarding/syslog-sender.js';
import { scratchDir } from '../../scripts/lib/ephemeral-servers.js';
import type { OrthancServer } from '../../scripts/lib/orthanc-server.js';
import { ensureClinician, startApi, type ApiHarness } from '../support/api-harness.js';
import { grantAndToken, pacsEnv, startGateway, startPacs, type GatewayHarness } from '../support/gateway-harness.js';
import { SyslogReceiver } from '../support/syslog-receiver.js';

const STUDY = '1.2.826.0.1.3680043.8.498.1';
const USER = 'clin.ivy';
let api: ApiHarness;
let orthanc: OrthancServer;
let gateway: GatewayHarness;
let receiver: SyslogReceiver;
let forwarder: AuditForwarder;
let grant: { id: string; token: string };
let firstGrant: { id: string; token: string };

const b64 = (s: string) => Buffer.from(s).toString('base64');
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' });

/** Received messages: RFC 5424 header, then the XML after the BOM. */
function received() {
  return receiver.lines().map((line) => {
    const header = /^<(\d+)>1 (\S+) (\S+) (\S+) (\S+) (\S+) - \uFEFF(.*)$/s.exec(line);
    return { line, header, xml: header?.[7] ?? '' };
  });
}

async function access(path: string) {
  const response = await fetch(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${grant.token}` } });
  await response.arrayBuffer();
  return response.status;
}

beforeAll(async () => {
  ({ orthanc } = await startPacs());
  api = await startApi(pacsEnv(orthanc));
  await ensureClinician(api, USER, 'Ivy (clinician, syslog tests)');
  gateway = await startGateway(api, orthanc);
  receiver = await SyslogReceiver.create(scratchDir('iar-syslog-'));
  forwarder = new AuditForwarder(api.db, new SyslogSender({ url: `tcp://127.0.0.1:${receiver.port}`, timeoutMs: 2_000 }));
  grant = await grantAndToken(api, [STUDY], USER);
  firstGrant = grant;
});
afterAll(async () => {
  await forwarder?.close();
  await receiver?.stop();
  await gateway?.close();
  await orthanc?.process.stop();
  await api?.close();
});

async function ourRecords() {
  return api.db.gatewayAccessRecord.findMany({ where: { username: USER }, orderBy: { occurredAt: 'asc' } });
}

async function waitForLines(predicate: () => boolean) {
  for (let i = 0; i < 50 && !predicate(); i++) await new Promise((r) => setTimeout(r, 100));
}

describe('DICOM audit messages over syslog', () => {
  it('reach a real syslog receiver, well-formed, for accesses, refusals, the grant and its revocation', async () => {
    expect(await access(`/dicom-web/studies/${STUDY}/metadata`)).toBe(200);
    expect(await access(`/dicom-web/studies/${STUDY}/series`)).toBe(200);
    expect(await access('/dicom-web/studies/1.2.826.0.1.3680043.8.498.3/metadata')).toBe(403);
    await api.call('POST', `/api/access-requests/${grant.id}/revoke`, { token: await api.login('sec.grace'), body: { reason: 'syslog test over' } });
    await gateway.journal.flush();
    await forwarder.forward();
    const records = await ourRecords();
    expect(records).toHaveLength(3);
    await waitForLines(() => records.every((r) => receiver.lines().some((l) => l.includes(b64(r.id)))));

    const messages = received();
    for (const m of messages) {
      expect(m.header, m.line.slice(0, 80)).not.toBeNull();
      expect(m.header![1]).toBe('85');
      expect(m.header![6]).toBe('IHE+RFC-3881');
      expect(XMLValidator.validate(m.xml), m.xml.slice(0, 200)).toBe(true);
    }
    const about = (id: string) => messages.filter((m) => m.line.includes(b64(id))).map((m) => parser.parse(m.xml).AuditMessage);
    const served = about(records[0]!.id);
    expect(served).toHaveLength(1);
    expect(served[0].EventIdentification.EventID['csd-code']).toBe('110103');
    expect(served[0].EventIdentification.EventOutcomeIndicator).toBe('0');
    const participants = [served[0].ParticipantObjectIdentification].flat();
    expect(
      participants.find((p: { ParticipantObjectIDTypeCode: { 'csd-code': string } }) => p.ParticipantObjectIDTypeCode['csd-code'] === '110180')
        .ParticipantObjectID,
    ).toBe(STUDY);
    expect(participants.find((p: { ParticipantObjectTypeCode: string }) => p.ParticipantObjectTypeCode === '1').ParticipantObjectID).toBe('SYN-0001');
    expect([served[0].ActiveParticipant].flat().find((a: { UserIsRequestor: string }) => a.UserIsRequestor === 'true').UserID).toBe(USER);

    const refused = about(records[2]!.id);
    expect(refused[0].EventIdentification.EventID['csd-code']).toBe('110113');
    expect(refused[0].EventIdentification.EventTypeCode['csd-code']).toBe('110132');
    expect(refused[0].EventIdentification.EventOutcomeIndicator).toBe('4');

    // The grant and the revocation, from the audit chain.
    await waitForLines(() => received().filter((m) => m.line.includes(b64(grant.id))).length >= 2);
    const lifecycle = received()
      .filter((m) => m.line.includes(b64(grant.id)) && m.xml.includes('110137'))
      .map((m) => parser.parse(m.xml).AuditMessage);
    expect(lifecycle.length).toBeGreaterThanOrEqual(2);
    const requesters = lifecycle.map((l) => [l.ActiveParticipant].flat().find((a: { UserIsRequestor: string }) => a.UserIsRequestor === 'true').UserID);
    expect(requesters).toEqual(expect.arrayContaining(['priv.dave', 'sec.grace']));

    // Tokens appear only as their jti.
    expect(receiver.lines().join('\n')).not.toContain(grant.token.split('.')[2]);
  });

  it('loses nothing while the receiver is down and restarted', async () => {
    await receiver.stop();
    const fresh = await grantAndToken(api, [STUDY], USER);
    grant = fresh;
    for (let i = 0; i < 5; i++) expect(await access(`/dicom-web/studies/${STUDY}/metadata`)).toBe(200);
    await gateway.journal.flush();
    await expect(forwarder.forward()).rejects.toThrow();
    const pending = (await ourRecords()).filter((r) => r.forwardedAt === null);
    expect(pending).toHaveLength(5);

    await receiver.start();
    await forwarder.forward();
    await waitForLines(() => pending.every((r) => receiver.lines().some((l) => l.includes(b64(r.id)))));
    for (const record of pending)
      expect(
        receiver.lines().some((l) => l.includes(b64(record.id))),
        record.id,
      ).toBe(true);
    expect((await ourRecords()).every((r) => r.forwardedAt !== null)).toBe(true);
  });

  it('are served as FHIR AuditEvent resources for the same events', async () => {
    const response = await api.call('GET', `/api/cases/${firstGrant.id}/audit-events`, { token: await api.login('aud.frank') });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/fhir+json');
    const bundle = response.body as { resourceType: string; entry: { resource: any }[] };
    expect(bundle.resourceType).toBe('Bundle');
    const events = bundle.entry.map((e) => e.resource);
    expect(events.every((e) => e.resourceType === 'AuditEvent' && typeof e.recorded === 'string')).toBe(true);
    const codes = events.map((e) => `${e.type.code}/${e.subtype?.[0]?.code ?? '-'}/${e.outcome}`);
    // Granted, three accesses (two served, one refused), revoked.
    expect(codes.sort()).toEqual(['110103/-/0', '110103/-/0', '110113/110132/4', '110113/110137/0', '110113/110137/0'].sort());
    const served = events.find((e) => e.type.code === '110103');
    expect(served.entity).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ what: { identifier: { system: 'urn:dicom:uid', value: `urn:oid:${STUDY}` } } }),
        expect.objectContaining({ what: { identifier: { value: 'SYN-0001' } }, role: expect.objectContaining({ code: '1' }) }),
      ]),
    );
    expect(served.agent.find((a: { requestor: boolean }) => a.requestor).who.identifier.value).toBe(USER);
    expect(served.purposeOfEvent[0].coding[0]).toEqual({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' });
    expect(JSON.stringify(events)).not.toContain(firstGrant.token.split('.')[2]);
    expect((await api.call('GET', `/api/cases/${firstGrant.id}/audit-events`, { token: await api.login(USER) })).status).toBe(403);
  });

  it('go over TLS (RFC 5425) to a receiver whose certificate the sender trusts, and not otherwise', async () => {
    const dir = scratchDir('iar-syslog-tls-');
    const file = (name: string) => path.join(dir, name);
    // A throw-away CA and a server certificate for 127.0.0.1.
    const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=iar test CA',
    );
    openssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      file('server.key'),
      '-out',
      file('server.csr'),
      '-subj',
      '/CN=localhost',
    );
    execFileSync('sh', ['-c', `printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ${file('ext')}`]);
    openssl(
      'x509',
      '-req',
      '-in',
      file('server.csr'),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-out',
      file('server.pem'),
      '-days',
      '1',
      '-extfile',
      file('ext'),
    );
    const tlsReceiver = await SyslogReceiver.create(dir, { caFile: file('ca.pem'), certFile: file('server.pem'), keyFile: file('server.key') });
    try {
      const trusted = new SyslogSender({ url: `tls://localhost:${tlsReceiver.port}`, caFile: file('ca.pem') });
      await trusted.send([rfc5424('<AuditMessage>over tls</AuditMessage>', new Date(), 'iar-test')]);
      trusted.close();
      await waitForLines(() => tlsReceiver.lines().some((l) => l.includes('over tls')));
      expect(tlsReceiver.lines().some((l) => l.includes('<AuditMessage>over tls</AuditMessage>'))).toBe(true);

      const untrusting = new SyslogSender({ url: `tls://localhost:${tlsReceiver.port}` });
      await expect(untrusting.send([rfc5424('<AuditMessage>must not arrive</AuditMessage>', new Date(), 'iar-test')])).rejects.toThrow();
      expect(tlsReceiver.lines().some((l) => l.includes('must not arrive'))).toBe(false);
    } finally {
      await tlsReceiver.stop();
    }
  });
});
