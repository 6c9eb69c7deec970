import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isPortOpen, startProcess, waitFor, type ManagedProcess } from './processes.js';
import { SetupError } from './progress.js';

export const NGINX_BINARY = process.env.NGINX_BINARY ?? '/usr/sbin/nginx';

/** Before anything is started: the load balancer is Debian's nginx. */
export function requireNginx(): void {
  if (!existsSync(NGINX_BINARY))
    throw new SetupError(`The load balancer is Debian's nginx (apt-get install nginx-light); none at ${NGINX_BINARY} (NGINX_BINARY).`);
}

/**
 * The start of an nginx configuration that keeps everything in `dir` (its pid, error log and
 * temporary files) and logs no requests, up to the open `http {` block.
 */
export function nginxPreamble(dir: string): string {
  const temp = (name: string) => path.join(dir, name);
  return `daemon off;
worker_processes 1;
pid ${temp('nginx.pid')};
error_log ${temp('error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${temp('body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};`;
}

export interface Pool {
  /** What the pool serves, for messages. */
  name: string;
  /** Where the load balancer listens for it, on loopback. */
  port: number;
  /** The processes behind it, on loopback. */
  upstreams: number[];
}

/**
 * Debian's nginx in front of several processes of each part (`npm run start:cluster`): round
 * robin over kept-alive connections, a process that refuses connections skipped. A request
 * is sent to a second process only when the first could not be reached or failed on an
 * idempotent method: a POST (a submission, a review) is never sent twice. Answers stream
 * (the API's event stream, the gateway's images): no buffering.
 */
export async function startLoadBalancer(options: { dir: string; pools: Pool[]; logFile: string }): Promise<{ process: ManagedProcess }> {
  mkdirSync(options.dir, { recursive: true });
  const temp = (name: string) => path.join(options.dir, name);
  const upstream = (pool: Pool, i: number) =>
    `  upstream pool${i} {\n${pool.upstreams.map((port) => `    server 127.0.0.1:${port} max_fails=3 fail_timeout=5s;`).join('\n')}\n    keepalive 32;\n  }`;
  const server = (pool: Pool, i: number) => `  server {
    listen 127.0.0.1:${pool.port};
    location / {
      proxy_pass http://pool${i};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      # The client's address as nginx saw it, replacing whatever the client sent.
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 1h;
      proxy_next_upstream error timeout;
    }
  }`;
  const config = `${nginxPreamble(options.dir)}
  client_max_body_size 64m;
${options.pools.map(upstream).join('\n')}
${options.pools.map(server).join('\n')}
}
`;
  const file = temp('nginx.conf');
  writeFileSync(file, config);
  requireNginx();
  const proc = startProcess('nginx (load balancer)', NGINX_BINARY, ['-c', file, '-p', options.dir], { logFile: options.logFile });
  for (const pool of options.pools) await waitFor(`the load balancer for ${pool.name} on ${pool.port}`, () => isPortOpen(pool.port), { process: proc });
  return { process: proc };
}
