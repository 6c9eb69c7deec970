// The floor of a Node reverse proxy, for `npm run bench:gateway`: node:http's server in front
// of the PACS through the gateway's own PACS client (pacs/dicomweb-client.ts, kept-alive
// connections), the answer piped on. No token, no checks, no record, no Express: what one
// Node hop costs on this machine, so the gateway's figure splits into Node's part and its own.
// FLOOR_PORT and the gateway's PACS_* settings. It forwards any path with the PACS's
// credentials and checks nothing: it listens on loopback only, and only while the bench runs.
import http from 'node:http';
import { DicomwebClient } from '../../pacs/dicomweb-client.js';

const client = new DicomwebClient({
  dicomwebUrl: process.env.PACS_DICOMWEB_URL!,
  username: process.env.PACS_USERNAME!,
  password: process.env.PACS_PASSWORD!,
});

http
  .createServer((req, res) => {
    const [rawPath = '', rawQuery] = (req.url ?? '').split(/\?(.*)/s);
    client.stream(rawPath.replace(/^\/dicom-web/, ''), rawQuery ? new URLSearchParams(rawQuery) : undefined, req.headers.accept).then(
      (upstream) => {
        const headers: Record<string, string> = {};
        for (const name of ['content-type', 'content-length']) {
          const value = upstream.headers[name];
          if (typeof value === 'string') headers[name] = value;
        }
        res.writeHead(upstream.status, headers);
        upstream.body.pipe(res);
      },
      () => res.writeHead(502).end(),
    );
  })
  .listen(Number(process.env.FLOOR_PORT), '127.0.0.1');
