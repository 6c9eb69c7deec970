import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { NGINX_BINARY, nginxPreamble } from '../lib/load-balancer.js';
import { startProcess, waitFor, isPortOpen, type ManagedProcess } from '../lib/processes.js';

export { NGINX_BINARY } from '../lib/load-balancer.js';

/**
 * The reference reverse proxy for `npm run bench:gateway`: Debian's nginx in front of the
 * PACS with a keep-alive upstream, the PACS's credentials set, no auth of its own and no
 * logging. It checks nothing and records nothing: the price of one plain proxy hop.
 */
export async function startNginxProxy(options: {
  dir: string;
  port: number;
  upstreamPort: number;
  authorization: string;
  /** The split design's decider (scripts/bench/split-decider.ts): asked first, by auth_request, for the PACS URI to fetch. */
  deciderPort?: number;
}): Promise<{ url: string; process: ManagedProcess }> {
  const temp = (name: string) => path.join(options.dir, name);
  const config = `${nginxPreamble(options.dir)}
  upstream pacs { server 127.0.0.1:${options.upstreamPort}; keepalive 32; }
${options.deciderPort === undefined ? '' : `  upstream decider { server 127.0.0.1:${options.deciderPort}; keepalive 32; }`}
  server {
    listen 127.0.0.1:${options.port};
${options.deciderPort === undefined ? plainLocation(options.authorization) : splitLocations(options.authorization)}
  }
}
`;
  const file = temp('nginx.conf');
  writeFileSync(file, config);
  const proc = startProcess('nginx', NGINX_BINARY, ['-c', file, '-p', options.dir], { logFile: temp('nginx.log') });
  await waitFor('nginx', () => isPortOpen(options.port), { process: proc });
  return { url: `http://127.0.0.1:${options.port}`, process: proc };
}

function plainLocation(authorization: string): string {
  return `    location / {
      proxy_pass http://pacs;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "${authorization}";
    }`;
}

/** nginx streams; the decider says first whether, and which PACS URI (the viewer's, confined). */
function splitLocations(authorization: string): string {
  return `    location / {
      auth_request /_decide;
      auth_request_set $pacs_uri $upstream_http_x_pacs_uri;
      proxy_pass http://pacs$pacs_uri;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "${authorization}";
      proxy_hide_header Keep-Alive;
    }
    location = /_decide {
      internal;
      proxy_pass http://decider;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Real-IP $remote_addr;
    }`;
}
