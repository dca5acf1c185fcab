import { createServer, type Server } from 'node:http';
import type { ProxyMetrics } from '@switchyard/mesh';

/** What the admin endpoints read from a proxy: its metrics and whether it is accepting. */
export interface AdminTarget {
  readonly metrics: ProxyMetrics;
  readonly ready: boolean;
}

/** Where the admin endpoints listen. */
export interface AdminServerOptions {
  /** Default 15020 (Istio's merged-metrics port). */
  port?: number;
  /** Default `0.0.0.0`, so Prometheus can scrape the pod; exclude the port from inbound capture. */
  host?: string;
}

/**
 * Serves `GET /metrics` (Prometheus text format), `GET /ready` (200 while accepting, 503 while
 * draining) and `GET /healthz` (200 while the process runs).
 */
export async function startAdminServer(
  sidecar: AdminTarget,
  options: AdminServerOptions = {},
): Promise<Server> {
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
    } else if (path === '/metrics') {
      res
        .writeHead(200, { 'content-type': sidecar.metrics.registry.contentType })
        .end(await sidecar.metrics.registry.metrics());
    } else if (path === '/ready') {
      res
        .writeHead(sidecar.ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(sidecar.ready ? 'ready\n' : 'not ready\n');
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('endpoints: /metrics /ready /healthz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 15020, options.host ?? '0.0.0.0', () => resolve());
  });
  return server;
}
