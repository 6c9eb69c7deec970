// For `npm run bench:gateway` with BENCH_SPLIT=1 only: a measurement of the split design that
// issue 12 allows, not a deployed part. nginx streams the bytes (scripts/bench/nginx-proxy.ts,
// `decider`) and asks this process first with `auth_request`: the gateway's own checks
// (token, grant state, scope, the PACS's hierarchy) and its own journal, answering 204 with
// the PACS URI to fetch, or the refusal's status. Rendered images and instances are not
// decided here: they need the gateway's marks, so they are refused (nginx would route them to
// the gateway itself). What it leaves out of the real gateway's promises is in the README.
import http from 'node:http';
import { AccessRecorder } from '../../gateway/access-recorder.js';
import { authorize } from '../../gateway/authorize.js';
import { servesInstances } from '../../gateway/dicom-delivery.js';
import { parseDicomwebPath } from '../../gateway/dicomweb-route.js';
import { planPacsRequest } from '../../gateway/pacs-request.js';
import { Refusal } from '../../gateway/refusal.js';
import { openGatewayParts } from '../../gateway/serve.js';
import { serialiseQuery } from '../../pacs/dicomweb-client.js';

const { config, journal, grants, tokens, hierarchy, close } = await openGatewayParts();
const pacsRoot = new URL(config.pacs.dicomwebUrl).pathname.replace(/\/+$/, '');

const server = http.createServer(async (req, res) => {
  const method = String(req.headers['x-original-method'] ?? '');
  const [rawPath = '', rawQuery = ''] = String(req.headers['x-original-uri'] ?? '').split(/\?(.*)/s);
  // The record's method, client and status are the viewer's request's, as nginx passes them.
  const viewer = { method, socket: { remoteAddress: String(req.headers['x-real-ip'] ?? '') } } as http.IncomingMessage;
  const access = new AccessRecorder({ journal, gatewayId: config.gatewayId }, viewer, res, rawPath);
  try {
    const token = await tokens.verify(req.headers.authorization);
    access.token = token;
    if (method !== 'GET' && method !== 'HEAD') throw new Refusal(403, 'METHOD_NOT_ALLOWED', 'reads only');
    const target = parseDicomwebPath(rawPath);
    access.route = target.route;
    access.path = target.normalisedPath;
    const plan = planPacsRequest(target, await authorize({ grants, hierarchy }, token, target.route, rawQuery));
    if (plan.watermark || servesInstances(target.route)) throw new Refusal(403, 'NOT_DECIDED_HERE', 'marked by the gateway itself');
    const query = serialiseQuery(plan.query);
    res.statusCode = 200;
    // Recorded before nginx may send a byte; what it then sends is not known here.
    access.served();
    res.writeHead(204, { 'x-pacs-uri': `${pacsRoot}${plan.path}${query ? `?${query}` : ''}` }).end();
  } catch (error) {
    // nginx passes 401 and 403 on; anything else it answers 500. Either way nothing is served.
    const status = error instanceof Refusal && error.status === 401 ? 401 : 403;
    res.statusCode = status;
    access.refused(error instanceof Refusal ? error.reason : 'GATEWAY_ERROR');
    res.writeHead(status).end();
  }
});
server.listen(config.port, config.host);
const stop = () =>
  server.close(async () => {
    await close();
    process.exit(0);
  });
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
