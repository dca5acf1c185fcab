import { createServer, type Server as HttpServer } from 'node:http';
import type { Server, Socket } from 'node:net';
import type { SocketOps, Target } from '@switchyard/core';
import type { Registry } from 'prom-client';
import { DATAPLANE_PORTS } from './defaults.js';

/** What the admin endpoints read. */
export interface AdminSource {
  readonly metrics: { registry: Registry };
  /** Ready to take traffic (not draining). */
  readonly ready: boolean;
  /** Extra JSON for `/status` (the data plane's workloads); `query`: the request's query (`?service=web/api`). */
  status?(query: URLSearchParams): unknown;
  /** More JSON endpoints by path (`/explain`): each answers a status code and a body. */
  routes?: Readonly<Record<string, (query: URLSearchParams) => { status: number; body: unknown }>>;
}

/** Where the admin endpoints listen. */
export interface AdminServerOptions {
  /** Default 15020. Exclude it from inbound capture. */
  port?: number;
  /** Default `127.0.0.1`: the loopback of the network it serves, never the host's wildcard by accident. */
  host?: string;
  /** Listen inside this target's network (the namespace the proxy serves). Needs `socketOps`. */
  target?: Target;
  /** How to open the listener inside `target`. */
  socketOps?: SocketOps;
}

/** A running admin server. */
export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (Prometheus text), `/healthz` (200 while the process runs), `/readyz`
 * (200 while ready, 503 while draining; `/ready` is the same), and `/status` (JSON).
 */
export async function startAdminServer(
  source: AdminSource,
  options: AdminServerOptions = {},
): Promise<AdminServer> {
  const http = createServer((req, res) =>
    answer(source, req.method, req.url, res).catch(() => res.destroy()),
  );
  const port = options.port ?? DATAPLANE_PORTS.admin;
  const host = options.host ?? '127.0.0.1';
  let listener: Server | HttpServer;
  if (options.target) {
    if (!options.socketOps)
      throw new TypeError('startAdminServer: a target needs socketOps to listen inside it');
    const inside = await options.socketOps.listen({ port, host, target: options.target });
    inside.on('connection', (s: Socket) => http.emit('connection', s));
    listener = inside;
  } else {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    listener = http;
  }
  return {
    port: (listener.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        listener.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

async function answer(
  source: AdminSource,
  method: string | undefined,
  url: string | undefined,
  res: import('node:http').ServerResponse,
): Promise<void> {
  const path = (url ?? '/').split('?')[0];
  const text = (status: number, body: string) =>
    res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
  if (method !== 'GET') return void res.writeHead(405, { allow: 'GET' }).end();
  if (path === '/metrics') {
    const body = await source.metrics.registry.metrics();
    return void res.writeHead(200, { 'content-type': source.metrics.registry.contentType }).end(body);
  }
  if (path === '/healthz') return void text(200, 'ok\n');
  if (path === '/readyz' || path === '/ready')
    return void text(source.ready ? 200 : 503, source.ready ? 'ready\n' : 'not ready\n');
  if (path === '/status')
    return void res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(source.status?.(new URL(url ?? '/', 'http://admin').searchParams) ?? {}));
  const route = path ? source.routes?.[path] : undefined;
  if (route) {
    const { status, body } = route(new URL(url ?? '/', 'http://admin').searchParams);
    return void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
  const more = Object.keys(source.routes ?? {}).join(' ');
  text(404, `endpoints: /metrics /healthz /readyz /status${more ? ` ${more}` : ''}\n`);
}
