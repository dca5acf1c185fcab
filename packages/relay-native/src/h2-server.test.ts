import { afterAll, describe, expect, it } from 'vitest';
import type { IncomingTunnel } from './h2-session.js';
import { createRelayEngine } from './relay-engine.js';
import * as loopback from './test-support/loopback.js';

const { credentials, nodeHttp2Client, pausedServer, receiveAll, sendRandom, socketPair } = loopback;

const MiB = 1 << 20;

describe('HTTP/2 (HBONE) served on the engine', () => {
  const engine = createRelayEngine({ threads: 2 });
  const context = engine.createTlsContext({ ...credentials('server'), alpn: 'h2' });
  afterAll(() => engine.close());

  /** A Node HTTP/2 client over TLS (ALPN h2) → the engine's server; streams go to `onStream`. */
  async function serve(onStream: (t: IncomingTunnel) => void, denied = false) {
    const listener = await pausedServer();
    const client = nodeHttp2Client(listener.port);
    const peer = await engine.tls({ role: 'server', socket: await listener.next(), credentials: context });
    listener.server.close();
    if (!peer.ok) throw new Error(peer.detail);
    const session = peer.http2({ role: 'server', denied, onStream });
    return { client, session };
  }

  it('a CONNECT stream is reported, accepted with a plain socket, and carries bytes both ways with half-close', async () => {
    const app = await socketPair();
    const seen: IncomingTunnel[] = [];
    let ended: Promise<unknown> | undefined;
    const { client, session } = await serve((t) => {
      seen.push(t);
      ended = t.accept(app.inside);
    });
    const stream = client.request({
      ':method': 'CONNECT',
      ':authority': '10.0.0.1:8080',
      forwarded: 'for="1.2.3.4"',
    });
    const status = new Promise<number>((resolve) =>
      stream.once('response', (h) => resolve(Number(h[':status']))),
    );
    expect(await status).toBe(200);
    expect(seen[0]).toMatchObject({
      method: 'CONNECT',
      authority: '10.0.0.1:8080',
      forwarded: 'for="1.2.3.4"',
      overflow: false,
    });
    const [sentUp, sentDown, gotUp, gotDown] = await Promise.all([
      sendRandom(stream as never, 8 * MiB),
      sendRandom(app.outside, 8 * MiB),
      receiveAll(app.outside),
      receiveAll(stream as never),
    ]);
    expect(gotUp.sha256).toBe(sentUp);
    expect(gotDown.sha256).toBe(sentDown);
    expect(await ended).toMatchObject({ up: 8 * MiB, down: 8 * MiB, reason: 'eof', code: 0 });
    client.close();
    expect((await session.ended).reason).toMatch(/eof|reset/);
  });

  it("advertises HBONE's SETTINGS, answers PINGs, and its GOAWAY lets an open stream finish", async () => {
    const app = await socketPair();
    let ended: Promise<unknown> | undefined;
    const { client, session } = await serve((t) => {
      ended = t.accept(app.inside);
    });
    await new Promise((resolve) => client.once('remoteSettings', resolve));
    expect(client.remoteSettings).toMatchObject({ maxConcurrentStreams: 100, initialWindowSize: 4 * MiB });
    const rtt = await new Promise<number>((resolve, reject) =>
      client.ping((error, duration) => (error ? reject(error) : resolve(duration))),
    );
    expect(rtt).toBeGreaterThanOrEqual(0);
    const stream = client.request({ ':method': 'CONNECT', ':authority': '10.0.0.1:8080' });
    await new Promise((resolve) => stream.once('response', resolve));
    const goaway = new Promise((resolve) => client.once('goaway', resolve));
    session.goaway();
    await goaway;
    // the open tunnel still carries both ways after the GOAWAY
    const echoed = receiveAll(stream as never);
    app.outside.end('after goaway');
    stream.end('to the app');
    expect((await receiveAll(app.outside)).bytes).toBe('to the app'.length);
    expect((await echoed).bytes).toBe('after goaway'.length);
    expect(await ended).toMatchObject({ reason: 'eof' });
    expect((await session.ended).reason).toBe('eof');
  });

  it('closes a connection that has had no stream for the idle timeout', async () => {
    const idle = createRelayEngine({ threads: 1, h2IdleTimeoutMs: 500 });
    try {
      const listener = await pausedServer();
      const client = nodeHttp2Client(listener.port);
      const tls = idle.createTlsContext({ ...credentials('server'), alpn: 'h2' });
      const peer = await idle.tls({ role: 'server', socket: await listener.next(), credentials: tls });
      listener.server.close();
      if (!peer.ok) throw new Error(peer.detail);
      const session = peer.http2({ role: 'server' });
      const goaway = new Promise((resolve) => client.once('goaway', resolve));
      expect((await session.ended).reason).toBe('eof');
      await goaway;
      client.destroy();
    } finally {
      idle.close();
    }
  });

  it('a refused stream gets its status and no app socket; the connection serves the next stream', async () => {
    const { client, session } = await serve((t) => t.refuse(t.authority === 'nonsense' ? 400 : 401));
    const answer = (authority: string) =>
      new Promise<number>((resolve) => {
        const s = client.request({ ':method': 'CONNECT', ':authority': authority });
        s.on('error', () => undefined);
        s.once('response', (h) => resolve(Number(h[':status'])));
      });
    expect(await answer('10.0.0.1:80')).toBe(401);
    expect(await answer('nonsense')).toBe(400);
    client.close();
    await session.ended;
  });
});
