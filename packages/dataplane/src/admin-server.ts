import { createServer, type Server as HttpServer } from 'node:http';
import type { Server, Socket } from 'node:net';
import type { SocketOps, Target } from '@switchyard/core';
import type { Registry } from 'prom-client';
import { DATAPLANE_PORTS } from './defaults.js';
import { LOG_LEVELS, type LogLevel } from './logger.js';

/** What the admin endpoints read. */
export interface AdminSource {
  readonly metrics: { registry: Registry };
  /** Ready to take traffic (not draining). */
  readonly ready: boolean;
  /** Extra JSON for `/status` (the data plane's workloads); `query`: the request's query (`?service=web/api`). */
  status?(query: URLSearchParams): unknown;
  /** More JSON endpoints by path (`/explain`): each answers a status code and a body. */
  routes?: Readonly<Record<string, (query: URLSearchParams) => { status: number; body: unknown }>>;
  /**
   * What a workload runs with, for `/config` (`?workload=ID` where there are several); undefined
   * answers 404.
   */
  config?(query: URLSearchParams): unknown;
  /** The log level, read by `GET /logging` and changed by `POST /logging?level=…` (from loopback only). */
  logLevel?: { get(): LogLevel; set(level: LogLevel): void };
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
 * (200 while ready, 503 while draining; `/ready` is the same), `/status` (JSON), and, when the
 * source has a log level, `GET /logging` and `POST /logging?level=debug|info|warn|error`.
 */
export async function startAdminServer(
  source: AdminSource,
  options: AdminServerOptions = {},
): Promise<AdminServer> {
  const http = createServer((req, res) => answer(source, req, res).catch(() => res.destroy()));
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
  req: import('node:http').IncomingMessage,
  res: import('node:http').ServerResponse,
): Promise<void> {
  const { method, url } = req;
  const path = (url ?? '/').split('?')[0];
  const text = (status: number, body: string) =>
    res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
  if (path === '/logging' && source.logLevel) return logging(source.logLevel, req, res);
  if (method !== 'GET') return void res.writeHead(405, { allow: 'GET' }).end();
  if (path === '/metrics') {
    const body = await source.metrics.registry.metrics();
    return void res.writeHead(200, { 'content-type': source.metrics.registry.contentType }).end(body);
  }
  if (path === '/healthz') return void text(200, 'ok\n');
  if (path === '/readyz' || path === '/ready')
    return void text(source.ready ? 200 : 503, source.ready ? 'ready\n' : 'not ready\n');
  const query = () => new URL(url ?? '/', 'http://admin').searchParams;
  const json = (status: number, body: unknown) =>
    void res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
  if (path === '/status') return json(200, source.status?.(query()) ?? {});
  if (path === '/config' && source.config) {
    const config = source.config(query());
    return config === undefined ? json(404, { error: 'no such workload here' }) : json(200, config);
  }
  const route = path ? source.routes?.[path] : undefined;
  if (route) {
    const { status, body } = route(query());
    return json(status, body);
  }
  const more = [
    ...(source.config ? ['/config'] : []),
    ...(source.logLevel ? ['/logging'] : []),
    ...Object.keys(source.routes ?? {}),
  ];
  text(404, `endpoints: /metrics /healthz /readyz /status${more.map((m) => ` ${m}`).join('')}\n`);
}

/** `GET /logging`: the level; `POST /logging?level=…`: changes it, asked from this host's loopback only. */
function logging(
  control: NonNullable<AdminSource['logLevel']>,
  req: import('node:http').IncomingMessage,
  res: import('node:http').ServerResponse,
): void {
  const json = (status: number, body: unknown): void =>
    void res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
  if (req.method === 'GET') return void json(200, { level: control.get() });
  if (req.method !== 'POST') return void res.writeHead(405, { allow: 'GET, POST' }).end();
  // A peer that reaches the admin port must not turn on debug logging and flood the disk.
  if (!isLoopback(req.socket.remoteAddress))
    return void json(403, { error: 'the log level can be changed from loopback only' });
  const level = new URL(req.url ?? '/', 'http://admin').searchParams.get('level') ?? '';
  if (!(LOG_LEVELS as readonly string[]).includes(level))
    return void json(400, { error: `level must be one of ${LOG_LEVELS.join(', ')}` });
  control.set(level as LogLevel);
  json(200, { level });
}

function isLoopback(address: string | undefined): boolean {
  const a = address?.replace(/^::ffff:/, '') ?? '';
  return a === '::1' || a.startsWith('127.');
}
