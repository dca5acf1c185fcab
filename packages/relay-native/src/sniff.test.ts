import { createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { createRelayEngine } from './relay-engine.js';
import { resumeReading, stopReading } from './socket-handoff.js';
import { credentials, dial, fixture } from './test-support/loopback.js';

/** A server that stops Node reading each socket in the turn it is accepted, as the carriers do. */
async function stoppedServer(): Promise<{ server: Server; port: number; next: Promise<Socket> }> {
  const server = createServer();
  const next = new Promise<Socket>((resolve) =>
    server.once('connection', (s) => {
      stopReading(s);
      resolve(s);
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, next };
}

/** Everything Node reads from `socket` (resumed now) until the peer ends it. */
function readAll(socket: Socket): Promise<string> {
  let text = '';
  socket.on('data', (d) => {
    text += d;
  });
  socket.resume();
  return new Promise((resolve) => socket.once('end', () => resolve(text)));
}

describe('sniffing a server handshake in the engine: TLS or plain TCP by the first byte, nothing read', () => {
  const engine = createRelayEngine({ threads: 1, handshakeTimeoutMs: 500 });
  const context = engine.createTlsContext(credentials('server'));
  const servers: Server[] = [];
  afterAll(() => {
    engine.close();
    for (const s of servers) s.close();
  });

  async function sniffed(send: (port: number) => Promise<Socket>) {
    const { server, port, next } = await stoppedServer();
    servers.push(server);
    const client = await send(port);
    const socket = await next;
    const result = await engine.tls({
      role: 'server',
      socket,
      credentials: context,
      keepSocket: true,
      sniff: true,
    });
    return { client, socket, result };
  }

  it('plain bytes: not-tls, and Node, reading again, gets every one of them', async () => {
    const { client, socket, result } = await sniffed(async (port) => {
      const c = await dial(port);
      c.end('plain bytes, first to last\n');
      return c;
    });
    expect(result).toMatchObject({ ok: false, reason: 'not-tls' });
    resumeReading(socket);
    // Paused until read: nothing is emitted (and lost) before a reader comes.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await readAll(socket)).toBe('plain bytes, first to last\n');
    client.destroy();
    socket.destroy();
  });

  it('a client that sends nothing: not-tls after the handshake timeout, the socket still Node’s', async () => {
    const { client, socket, result } = await sniffed((port) => dial(port));
    expect(result).toMatchObject({ ok: false, reason: 'not-tls' });
    resumeReading(socket);
    const read = readAll(socket);
    client.end('late\n');
    expect(await read).toBe('late\n');
    socket.destroy();
  });

  it('a TLS client is handshaken as without sniffing; a failed TLS handshake is a failure, never not-tls', async () => {
    const connectWith = (leaf: string) => async (port: number) => {
      const c = tlsConnect({
        port,
        host: '127.0.0.1',
        cert: fixture(`${leaf}.pem`),
        key: fixture(`${leaf}-key.pem`),
        ca: fixture('ca.pem'),
        checkServerIdentity: () => undefined,
      });
      c.on('error', () => undefined);
      return c as unknown as Socket;
    };
    const good = await sniffed(connectWith('client'));
    expect(good.result).toMatchObject({ ok: true, spiffeId: 'spiffe://cluster.local/ns/test/sa/client' });
    if (good.result.ok) await good.result.reject();
    good.client.destroy();
    const bad = await sniffed(connectWith('rogue'));
    expect(bad.result).toMatchObject({ ok: false, reason: 'handshake-failed' });
    bad.client.destroy();
  });
});
