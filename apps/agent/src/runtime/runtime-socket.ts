import { chmod, mkdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import type { Logger } from '@switchyard/dataplane';

/** An answer to the runtime: a status and the body its program prints. */
export interface RuntimeAnswer {
  status: number;
  body: string;
  contentType?: string;
}

/** A request path's handler: the parsed JSON body in, the answer out. */
export type RuntimeHandler = (body: unknown) => Promise<RuntimeAnswer>;

/** The most a request body may hold: a CNI configuration with its prevResult fits many times over. */
const MAX_BODY_BYTES = 1024 * 1024;
/** How long a client may take to send its request, ms (the answer may take as long as a capture). */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * The agent's socket for the container runtime (the CNI plugin, the runtime wrapper): HTTP over a
 * unix socket that only root may open (0600), one JSON request a connection, POST only. A stale
 * socket file left by a killed agent is replaced (the instance lock says no other agent of this
 * state directory runs). Errors in a handler become a 500 with their message; nothing throws.
 */
export async function startRuntimeSocket(
  path: string,
  handlers: Readonly<Record<string, RuntimeHandler>>,
  logger: Logger,
): Promise<{ close(): Promise<void> }> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await rm(path, { force: true });
  const server = createServer((req, res) => void serve(req, res, handlers, logger));
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // The socket is created 0600: no window where another user could connect.
    const mask = process.umask(0o177);
    try {
      server.listen(path, () => resolve());
    } finally {
      process.umask(mask);
    }
  });
  await chmod(path, 0o600);
  return { close: () => closeSocket(server, path) };
}

async function closeSocket(server: Server, path: string): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(path, { force: true });
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  handlers: Readonly<Record<string, RuntimeHandler>>,
  logger: Logger,
): Promise<void> {
  const handler = handlers[req.url ?? ''];
  if (req.method !== 'POST' || !handler) {
    req.resume();
    return answer(res, { status: 404, body: `no such request: ${req.method} ${req.url}\n` });
  }
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req));
  } catch (error) {
    return answer(res, { status: 400, body: `the request is not JSON: ${(error as Error).message}\n` });
  }
  try {
    answer(res, await handler(body));
  } catch (error) {
    logger.error('runtime request failed', { path: req.url, reason: (error as Error).message });
    answer(res, { status: 500, body: `${(error as Error).message}\n` });
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`more than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function answer(res: ServerResponse, a: RuntimeAnswer): void {
  if (res.destroyed) return;
  res
    .writeHead(a.status, {
      'content-type': a.contentType ?? 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(a.body),
      connection: 'close',
    })
    .end(a.body);
}
