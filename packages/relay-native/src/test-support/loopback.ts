// Loopback sockets for the engine's tests: an "outside" end the test drives with Node, and an
// "inside" end (accepted with pauseOnConnect, never read) that the test hands to the engine.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type ClientHttp2Session, connect as h2connect } from 'node:http2';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

/** A connected pair on 127.0.0.1: `outside` is an ordinary client, `inside` is paused and unread. */
export async function socketPair(): Promise<{ outside: Socket; inside: Socket }> {
  const server = createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const outside = connect({
    port: (server.address() as AddressInfo).port,
    host: '127.0.0.1',
    allowHalfOpen: true,
  });
  await new Promise((resolve) => outside.once('connect', resolve));
  const inside = await accepted;
  server.close();
  return { outside, inside };
}

/** A server whose accepted sockets arrive paused, for handing to the engine. */
export async function pausedServer(): Promise<{ server: Server; port: number; next(): Promise<Socket> }> {
  const server = createServer({ pauseOnConnect: true });
  const queue: Socket[] = [];
  const waiters: ((s: Socket) => void)[] = [];
  server.on('connection', (s) => {
    const waiter = waiters.shift();
    if (waiter) waiter(s);
    else queue.push(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const next = () => {
    const ready = queue.shift();
    return ready ? Promise.resolve(ready) : new Promise<Socket>((resolve) => waiters.push(resolve));
  };
  return { server, port, next };
}

/** A connected client socket (not yet read from). */
export async function dial(port: number): Promise<Socket> {
  const s = connect({ port, host: '127.0.0.1', noDelay: true });
  await new Promise((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  return s;
}

/** Writes `total` bytes of random data with backpressure, then ends; resolves to their sha256. */
export async function sendRandom(socket: Socket, total: number): Promise<string> {
  const chunk = randomBytes(1 << 20);
  const hash = createHash('sha256');
  for (let sent = 0; sent < total; sent += chunk.length) {
    const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
    hash.update(piece);
    if (!socket.write(piece)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  socket.end();
  return hash.digest('hex');
}

/** Reads until the peer ends; resolves to the byte count and sha256. */
export function receiveAll(socket: Socket): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  socket.on('data', (d: Buffer) => {
    bytes += d.length;
    hash.update(d);
  });
  socket.resume();
  return new Promise((resolve, reject) => {
    socket.once('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
    socket.once('error', reject);
  });
}

/** Resolves with the first `data` chunk. */
export function firstData(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    socket.once('data', resolve);
    socket.once('error', reject);
    socket.resume();
  });
}

const fixtures = new URL('../../fixtures/', import.meta.url);

/** A PEM file from `fixtures/` (see `fixtures/make-fixtures.sh`). */
export const fixture = (name: string): string => readFileSync(new URL(name, fixtures), 'utf8');

/** The absolute path of a fixture file. */
export const fixturePath = (name: string): string => new URL(name, fixtures).pathname;

/** Credentials of a fixture leaf (`server`, `client`, `no-spiffe`, `two-spiffe`, `rogue`) trusting the test CA. */
export const credentials = (leaf: string, groups = 'X25519') => ({
  cert: fixture(`${leaf}.pem`),
  key: fixture(`${leaf}-key.pem`),
  ca: fixture('ca.pem'),
  groups,
});

/** A Node HTTP/2 client (the reference implementation) over TLS to 127.0.0.1:`port`, as the `client` leaf. */
export function nodeHttp2Client(port: number): ClientHttp2Session {
  const client = h2connect(`https://127.0.0.1:${port}`, {
    cert: fixture('client.pem'),
    key: fixture('client-key.pem'),
    ca: fixture('ca.pem'),
    checkServerIdentity: () => undefined,
  });
  client.on('error', () => undefined); // tests assert on what the engine did, not on client errors
  return client;
}
