import { createSecureServer, type Http2SecureServer, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createRelayEngine } from './relay-engine.js';
import * as loopback from './test-support/loopback.js';

const { credentials, dial, fixture, receiveAll, sendRandom, socketPair } = loopback;
const MiB = 1 << 20;

describe('HTTP/2 (HBONE) tunnels dialled by the engine', () => {
  const engine = createRelayEngine({ threads: 2 });
  const context = engine.createTlsContext({ ...credentials('client'), alpn: 'h2' });
  afterAll(() => engine.close());

  /** A Node HTTP/2 server (the reference): CONNECT to `ok` echoes, anything else is answered 503. */
  async function nodeServer(seen: Record<string, unknown>[]): Promise<Http2SecureServer & { port: number }> {
    const server = createSecureServer({
      cert: fixture('server.pem'),
      key: fixture('server-key.pem'),
      ca: fixture('ca.pem'),
      requestCert: true,
      rejectUnauthorized: true,
    });
    server.on('stream', (stream: ServerHttp2Stream, headers) => {
      seen.push({ ...headers });
      if (headers[':authority'] !== '10.0.0.9:80')
        return stream.respond({ ':status': 503 }, { endStream: true });
      stream.respond({ ':status': 200 });
      stream.pipe(stream);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return Object.assign(server, { port: (server.address() as AddressInfo).port });
  }

  it('opens CONNECT tunnels on one connection: 200 carries bytes both ways, 503 leaves the socket usable', async () => {
    const seen: Record<string, unknown>[] = [];
    const server = await nodeServer(seen);
    const peer = await engine.tls({ role: 'client', socket: await dial(server.port), credentials: context });
    if (!peer.ok) throw new Error(peer.detail);
    expect(peer.spiffeId).toBe('spiffe://cluster.local/ns/test/sa/server');
    const session = peer.http2({ role: 'client' });
    const refused = await socketPair();
    const no = await session.open('10.0.0.9:81', {}, refused.inside);
    expect(no).toMatchObject({ ok: false, status: 503 });
    expect(refused.inside.destroyed).toBe(false); // another endpoint may be tried with it
    refused.inside.destroy();
    const app = await socketPair();
    const yes = await session.open('10.0.0.9:80', { forwarded: 'for="10.1.1.1:5"' }, app.inside);
    if (!yes.ok) throw new Error(yes.reason);
    app.inside.destroy(); // the engine holds its own descriptor
    const [sent, got] = await Promise.all([sendRandom(app.outside, 8 * MiB), receiveAll(app.outside)]);
    expect(got.sha256).toBe(sent);
    expect(await yes.ended).toMatchObject({ up: 8 * MiB, down: 8 * MiB, reason: 'eof' });
    expect(seen[1]).toMatchObject({
      ':method': 'CONNECT',
      ':authority': '10.0.0.9:80',
      forwarded: 'for="10.1.1.1:5"',
    });
    expect(session.streams).toBe(0);
    session.goaway();
    expect((await session.ended).reason).toBe('eof');
    server.close();
  });
});
