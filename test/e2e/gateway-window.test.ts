import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OrthancServer } from '../../scripts/lib/orthanc-server.js';
import { CT_PHANTOM, type SyntheticStudy } from '../../scripts/lib/synthetic-studies.js';
import { ensureClinician, startApi, type ApiHarness } from '../support/api-harness.js';
import { grantAndToken, pacsEnv, startGateway, startPacs, type GatewayHarness } from '../support/gateway-harness.js';

// CT windowing end to end: a synthetic CT (16-bit MONOCHROME2, Hounsfield units by rescale)
// rendered by the real Orthanc through the real gateway, which checks DICOMweb's `window`
// before the PACS hears of it and watermarks what comes back. Between the gateway and
// Orthanc a recording proxy: what the PACS was asked, and whether it was asked at all.

let api: ApiHarness;
let orthanc: OrthancServer;
let gateway: GatewayHarness;
let ct: SyntheticStudy;
let grant: { id: string; token: string };
let proxy: http.Server;
/** Paths with queries, as the PACS received them from the gateway. */
let pacsAsked: string[] = [];
const REQUESTER = 'clin.wanda';

beforeAll(async () => {
  let studies: SyntheticStudy[];
  ({ orthanc, studies } = await startPacs());
  ct = studies.find((s) => s.modality === 'CT')!;
  api = await startApi(pacsEnv(orthanc));
  await ensureClinician(api, REQUESTER, 'Wanda (clinician, window tests)');
  const upstream = new URL(orthanc.dicomwebUrl);
  proxy = http.createServer((req, res) => {
    pacsAsked.push(req.url ?? '');
    const forwarded = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxied = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/dicom-web`;
  gateway = await startGateway(api, { dicomwebUrl: proxied, username: orthanc.username, password: orthanc.password });
  grant = await grantAndToken(api, [ct.studyInstanceUid], REQUESTER);
});
afterAll(async () => {
  await gateway?.close();
  if (proxy) {
    proxy.closeAllConnections();
    await new Promise((r) => proxy.close(r));
  }
  await orthanc?.process.stop();
  await api?.close();
});
beforeEach(() => {
  pacsAsked = [];
});

const instancePath = () => {
  const series = ct.series[0]!;
  return `/dicom-web/studies/${ct.studyInstanceUid}/series/${series.seriesInstanceUid}/instances/${series.instances[0]}`;
};
const through = (path: string, token = grant.token) => fetch(`${gateway.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
const direct = (path: string) =>
  fetch(`${orthanc.dicomwebUrl}${path.replace(/^\/dicom-web/, '')}`, {
    headers: { authorization: `Basic ${Buffer.from(`${orthanc.username}:${orthanc.password}`).toString('base64')}` },
  });

interface Grey {
  data: Buffer;
  width: number;
  height: number;
  /** Mean of the whole image, by sharp's stats(). */
  mean: number;
}

async function grey(response: Response): Promise<Grey> {
  const image = Buffer.from(await response.arrayBuffer());
  const { data, info } = await sharp(image).greyscale().raw().toBuffer({ resolveWithObject: true });
  const { channels } = await sharp(data, { raw: { width: info.width, height: info.height, channels: 1 } }).stats();
  return { data, width: info.width, height: info.height, mean: channels[0]!.mean };
}

/** Mean grey level of a square of side 2·half around (cx, cy). */
function regionMean(image: Grey, cx: number, cy: number, half = 6): number {
  let sum = 0;
  let count = 0;
  for (let y = cy - half; y < cy + half; y++) {
    for (let x = cx - half; x < cx + half; x++) {
      sum += image.data[y * image.width + x]!;
      count++;
    }
  }
  return sum / count;
}

/** Mean absolute difference of two images over rows [from, to). */
function rowsDifference(a: Grey, b: Grey, from: number, to: number): number {
  let sum = 0;
  for (let y = from; y < to; y++) for (let x = 0; x < a.width; x++) sum += Math.abs(a.data[y * a.width + x]! - b.data[y * a.width + x]!);
  return sum / ((to - from) * a.width);
}

// Sample points of the phantom, all in its upper half (clear of the watermark band).
const LUNG = { x: CT_PHANTOM.lungs[0].cx, y: CT_PHANTOM.lungs[0].cy };
const SOFT_TISSUE = { x: CT_PHANTOM.body.cx, y: CT_PHANTOM.body.cy - 70 };
const AIR = { x: 10, y: 10 };

describe('CT windowing through the gateway', () => {
  it('renders the soft-tissue and the lung window differently, each as the PACS rendered it, watermarked', async () => {
    const soft = await through(`${instancePath()}/rendered?window=40,400,linear`);
    const lung = await through(`${instancePath()}/rendered?window=-600,1500,linear`);
    expect([soft.status, lung.status]).toEqual([200, 200]);
    expect(soft.headers.get('content-type')).toBe('image/jpeg');
    expect(lung.headers.get('content-type')).toBe('image/jpeg');
    // The window reached the PACS as sent: commas raw, nothing added or dropped.
    expect(pacsAsked.filter((p) => p.includes('/rendered'))).toEqual([
      `${instancePath()}/rendered?window=40,400,linear`,
      `${instancePath()}/rendered?window=-600,1500,linear`,
    ]);
    const [s, l] = await Promise.all([grey(soft), grey(lung)]);
    expect([l.width, l.height]).toEqual([s.width, s.height]);

    // Soft tissue (40 HU) mid-grey in its own window, near white in the lung window; lung
    // (-800 HU) and air (-1000 HU) black in the soft-tissue window, dark grey in the lung window.
    expect(regionMean(s, SOFT_TISSUE.x, SOFT_TISSUE.y)).toBeGreaterThan(100);
    expect(regionMean(s, SOFT_TISSUE.x, SOFT_TISSUE.y)).toBeLessThan(156);
    expect(regionMean(l, SOFT_TISSUE.x, SOFT_TISSUE.y)).toBeGreaterThan(205);
    expect(regionMean(s, LUNG.x, LUNG.y)).toBeLessThan(15);
    expect(regionMean(l, LUNG.x, LUNG.y)).toBeGreaterThan(70);
    expect(regionMean(l, LUNG.x, LUNG.y)).toBeLessThan(120);
    expect(regionMean(s, AIR.x, AIR.y)).toBeLessThan(15);
    expect(regionMean(l, AIR.x, AIR.y)).toBeGreaterThan(40);
    expect(regionMean(l, AIR.x, AIR.y)).toBeLessThan(regionMean(l, LUNG.x, LUNG.y));
    // The lung window brightens this air- and lung-heavy slice as a whole.
    expect(l.mean - s.mean).toBeGreaterThan(40);

    // Each is the PACS's rendering of that window, with the gateway's band burnt in below.
    for (const [marked, window] of [
      [s, '40,400,linear'],
      [l, '-600,1500,linear'],
    ] as const) {
      const original = await grey(await direct(`${instancePath()}/rendered?window=${window}`));
      expect(rowsDifference(marked, original, 0, Math.floor(marked.height / 2)), window).toBeLessThan(3);
      expect(rowsDifference(marked, original, marked.height - 20, marked.height), window).toBeGreaterThan(20);
    }
  });

  it('renders without a window as the PACS does by default, unlike either preset', async () => {
    const [none, soft, lung, original] = await Promise.all([
      through(`${instancePath()}/rendered`).then(grey),
      through(`${instancePath()}/rendered?window=40,400,linear`).then(grey),
      through(`${instancePath()}/rendered?window=-600,1500,linear`).then(grey),
      direct(`${instancePath()}/rendered`).then(grey),
    ]);
    expect(rowsDifference(none, original, 0, Math.floor(none.height / 2))).toBeLessThan(3);
    // The full range stretched: lung above the soft-tissue window's black, soft tissue below the lung window's near-white.
    expect(regionMean(none, LUNG.x, LUNG.y)).toBeGreaterThan(regionMean(soft, LUNG.x, LUNG.y) + 15);
    expect(regionMean(none, SOFT_TISSUE.x, SOFT_TISSUE.y)).toBeLessThan(regionMean(lung, SOFT_TISSUE.x, SOFT_TISSUE.y) - 30);
  });

  it('sends a window with encoded commas on with raw ones, which the PACS would otherwise refuse', async () => {
    expect((await direct(`${instancePath()}/rendered?window=40%2C400%2Clinear`)).status).toBe(400);
    const response = await through(`${instancePath()}/rendered?window=40%2C400%2Clinear`);
    expect(response.status).toBe(200);
    expect(pacsAsked.filter((p) => p.includes('/rendered'))).toEqual([`${instancePath()}/rendered?window=40,400,linear`]);
  });

  it('keeps a window on a thumbnail', async () => {
    const response = await through(`${instancePath()}/thumbnail?window=-600,1500,linear`);
    expect(response.status).toBe(200);
    expect(pacsAsked.filter((p) => p.includes('/rendered'))).toEqual([`${instancePath()}/rendered?window=-600,1500,linear&viewport=128,128`]);
  });

  it('refuses a bad window with a 400 problem, records it, and never asks the PACS', async () => {
    const own = await grantAndToken(api, [ct.studyInstanceUid], REQUESTER);
    const { jti } = decodeJwt(own.token) as { jti: string };
    const bad = ['40,400', '40,0,linear', '40,400,linear-exact', 'a,b,linear', '40,400,linear&window=-600,1500,linear'];
    const paths = bad.map((window) => `${instancePath()}/rendered?window=${window}`);
    paths.push(`${instancePath()}/thumbnail?window=40,400,linear-exact`, `/dicom-web/studies/${ct.studyInstanceUid}/rendered?window=40,-1,sigmoid`);
    pacsAsked = [];
    for (const path of paths) {
      const response = await through(path, own.token);
      expect(response.status, path).toBe(400);
      expect(response.headers.get('content-type'), path).toContain('application/problem+json');
      const problem = (await response.json()) as { type: string; title: string; status: number; detail: string };
      expect(problem, path).toMatchObject({ type: 'urn:imaging-access-review:gateway:window_not_valid', title: 'WINDOW_NOT_VALID', status: 400 });
      expect(problem.detail, path).toMatch(/window/);
    }
    expect(pacsAsked).toEqual([]);

    await gateway.journal.flush();
    const records = await gateway.db.gatewayAccessRecord.findMany({ where: { jti }, orderBy: { occurredAt: 'asc' } });
    expect(records).toHaveLength(paths.length);
    for (const record of records) {
      expect(record).toMatchObject({
        outcome: 'refused',
        reason: 'WINDOW_NOT_VALID',
        status: 400,
        username: REQUESTER,
        grantId: own.id,
        study: ct.studyInstanceUid,
      });
    }
    // The same token is served a good window right after: the refusals were about the window alone.
    expect((await through(`${instancePath()}/rendered?window=40,400,sigmoid`, own.token)).status).toBe(200);
  });
});
