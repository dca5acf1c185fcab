import { Duplex } from 'node:stream';
import { type TLSSocket, connect as tlsConnect, createServer as tlsServer } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { RelayCredentialsError } from './errors.js';
import type { PeerHandshake } from './peer-handshake.js';
import { createRelayEngine } from './relay-engine.js';
import {
  credentials,
  dial,
  firstData,
  fixture,
  pausedServer,
  receiveAll,
  sendRandom,
  socketPair,
} from './test-support/loopback.js';

const MiB = 1 << 20;

function nodeTlsClient(port: number, leaf: string): TLSSocket {
  return tlsConnect({
    port,
    host: '127.0.0.1',
    cert: fixture(`${leaf}.pem`),
    key: fixture(`${leaf}-key.pem`),
    ca: fixture('ca.pem'),
    ecdhCurve: 'X25519',
    checkServerIdentity: () => undefined,
    // keep sending after the relay's other direction ended (tls.connect passes it on to net.Socket)
    ...({ allowHalfOpen: true } as object),
  });
}

/** The first flight of a Node TLS client: its ClientHello record(s), as written to the wire. */
function clientHello(): Promise<Buffer> {
  return new Promise((resolve) => {
    const wire = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, done) {
        resolve(Buffer.from(chunk));
        done();
      },
    });
    tlsConnect({ socket: wire, ca: fixture('ca.pem'), checkServerIdentity: () => undefined }).on(
      'error',
      () => undefined,
    );
  });
}

describe('TLS in the engine', () => {
  const engine = createRelayEngine({ threads: 2 });
  const serverContext = engine.createTlsContext(credentials('server'));
  const clientContext = engine.createTlsContext(credentials('client'));
  afterAll(() => engine.close());

  /** A Node TLS client → engine (server role) → plain app socket. */
  async function engineServer(leaf = 'client') {
    const listener = await pausedServer();
    const client = nodeTlsClient(listener.port, leaf);
    client.on('error', () => undefined); // refusals are asserted on the handshake result
    const handshake = engine.tls({
      role: 'server',
      socket: await listener.next(),
      credentials: serverContext,
    });
    listener.server.close();
    return { client, handshake: await handshake };
  }

  it('closes a client that ended its side with its ClientHello before doing the server part of the handshake', async () => {
    const listener = await pausedServer();
    const raw = await dial(listener.port);
    raw.on('error', () => undefined);
    raw.end(await clientHello()); // the ClientHello and the FIN at once, as handshake churn sends them
    const socket = await listener.next();
    listener.server.close();
    await new Promise((r) => setTimeout(r, 50)); // both are in the server's socket before the hand-off
    const handshake = await engine.tls({ role: 'server', socket, credentials: serverContext });
    expect(handshake).toMatchObject({
      ok: false,
      reason: 'handshake-failed',
      detail: 'the client closed its side during the handshake',
    });
  });

  it('serves a Node TLS client: the peer identity first, then a relay with intact bytes', async () => {
    const { client, handshake } = await engineServer();
    if (!handshake.ok) throw new Error(handshake.detail);
    expect(handshake.spiffeId).toBe('spiffe://cluster.local/ns/test/sa/client');
    expect(handshake.protocol).toMatch(/^TLSv1\.3 TLS_\S+ x25519$/i);
    expect(handshake.chain[0]?.subjectAltName).toContain('spiffe://cluster.local/ns/test/sa/client');
    const app = await socketPair();
    const result = handshake.accept(app.inside);
    const [sentUp, sentDown, gotUp, gotDown] = await Promise.all([
      sendRandom(client, 16 * MiB),
      sendRandom(app.outside, 16 * MiB),
      receiveAll(app.outside),
      receiveAll(client),
    ]);
    expect(gotUp.sha256).toBe(sentUp);
    expect(gotDown.sha256).toBe(sentDown);
    expect(await result).toMatchObject({ up: 16 * MiB, down: 16 * MiB, reason: 'eof' });
  });

  it('dials a Node TLS server as a client and verifies it', async () => {
    const server = tlsServer({
      cert: fixture('server.pem'),
      key: fixture('server-key.pem'),
      ca: fixture('ca.pem'),
      requestCert: true,
      rejectUnauthorized: true,
    });
    server.on('secureConnection', (s) => s.pipe(s)); // echo
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const peer = await engine.tls({ role: 'client', socket: await dial(port), credentials: clientContext });
    if (!peer.ok) throw new Error(peer.detail);
    expect(peer.spiffeId).toBe('spiffe://cluster.local/ns/test/sa/server');
    const app = await socketPair();
    const result = peer.accept(app.inside);
    const echoed = firstData(app.outside);
    app.outside.write('ping');
    expect((await echoed).toString()).toBe('ping');
    app.outside.end();
    expect((await result).reason).toBe('eof');
    server.close();
  });

  it('pairs two engine ends as mTLS: 64 MiB each way intact', async () => {
    const wire = await socketPair(); // both TCP ends of the encrypted leg go to the engine
    const [serverEnd, clientEnd] = await Promise.all([
      engine.tls({ role: 'server', socket: wire.inside, credentials: serverContext }),
      engine.tls({ role: 'client', socket: wire.outside, credentials: clientContext }),
    ]);
    if (!serverEnd.ok || !clientEnd.ok) throw new Error('handshake failed');
    const app = await socketPair();
    const user = await socketPair();
    const results = [serverEnd.accept(app.inside), clientEnd.accept(user.inside)];
    const [sentUp, sentDown, gotUp, gotDown] = await Promise.all([
      sendRandom(user.outside, 64 * MiB),
      sendRandom(app.outside, 64 * MiB),
      receiveAll(app.outside),
      receiveAll(user.outside),
    ]);
    expect(gotUp).toEqual({ bytes: 64 * MiB, sha256: sentUp });
    expect(gotDown).toEqual({ bytes: 64 * MiB, sha256: sentDown });
    for (const r of await Promise.all(results)) expect(r.reason).toBe('eof');
  });

  it('passes half-close through TLS in both directions', async () => {
    const { client, handshake } = await engineServer();
    const peer = handshake as PeerHandshake;
    const app = await socketPair();
    const result = peer.accept(app.inside);
    const appSawEnd = new Promise((resolve) => app.outside.once('end', resolve));
    app.outside.resume();
    client.end();
    await appSawEnd;
    const reply = firstData(client);
    app.outside.write('after your end');
    expect((await reply).toString()).toBe('after your end');
    const clientSawEnd = new Promise((resolve) => client.once('end', resolve));
    app.outside.end();
    await clientSawEnd;
    expect((await result).reason).toBe('eof');
  });

  it('refuses a certificate without a SPIFFE ID, with two, or from another CA', async () => {
    for (const [leaf, reason] of [
      ['no-spiffe', 'identity'],
      ['two-spiffe', 'identity'],
    ] as const) {
      const { handshake } = await engineServer(leaf);
      expect(handshake).toMatchObject({ ok: false, reason });
    }
    const listener = await pausedServer();
    const rogue = tlsConnect({
      port: listener.port,
      host: '127.0.0.1',
      cert: fixture('rogue.pem'),
      key: fixture('rogue-key.pem'),
      ca: fixture('ca.pem'),
      checkServerIdentity: () => undefined,
    });
    rogue.on('error', () => undefined);
    const refused = await engine.tls({
      role: 'server',
      socket: await listener.next(),
      credentials: serverContext,
    });
    listener.server.close();
    expect(refused).toMatchObject({ ok: false, reason: 'handshake-failed' });
    if (!refused.ok) expect(refused.detail).toMatch(/certificate/);
  });

  it('lets JavaScript reject a verified peer: no byte reaches the app', async () => {
    const { client, handshake } = await engineServer();
    const peer = handshake as PeerHandshake;
    const closed = new Promise((resolve) => {
      client.once('end', resolve);
      client.once('close', resolve);
    });
    client.resume();
    client.write('must never arrive');
    expect(await peer.reject()).toMatchObject({ reason: 'rejected', up: 0, down: 0 });
    await closed;
  });

  it('resets a relaying connection on abort(): both ends see a reset, and the result says so', async () => {
    const { client, handshake } = await engineServer();
    const peer = handshake as PeerHandshake;
    const app = await socketPair();
    const ended = (s: { once(e: string, l: (x?: unknown) => void): unknown }) =>
      new Promise<string>((resolve) => {
        s.once('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? 'error'));
        s.once('end', () => resolve('end'));
      });
    const appEnd = ended(app.outside);
    const clientEnd = ended(client);
    app.outside.resume();
    client.resume();
    const result = peer.accept(app.inside);
    client.write('through');
    expect((await firstData(app.outside)).toString()).toBe('through');
    const abort = peer.abort;
    abort();
    expect(await result).toMatchObject({ reason: 'reset' });
    expect(await appEnd).toBe('ECONNRESET');
    expect(await clientEnd).not.toBe('end'); // never a clean end
    abort(); // after the end: nothing happens
  });

  it('refuses credentials OpenSSL cannot use, with a stable code', () => {
    const bad = () => engine.createTlsContext({ ...credentials('server'), key: fixture('client-key.pem') });
    expect(bad).toThrow(RelayCredentialsError);
    expect(bad).toThrow(/does not match the certificate/);
    expect(() => engine.createTlsContext({ cert: 'not PEM', key: 'x', ca: 'y' })).toThrow(
      expect.objectContaining({ code: 'SWY_ERR_RELAY_CREDENTIALS' }),
    );
  });

  it('uses a replaced context for new connections (rotation)', async () => {
    const rotated = engine.createTlsContext(credentials('two-spiffe'));
    const listener = await pausedServer();
    const client = nodeTlsClient(listener.port, 'client');
    const seen = new Promise<string>((resolve) =>
      client.once('secureConnect', () => resolve(String(client.getPeerCertificate().subjectaltname))),
    );
    const peer = await engine.tls({ role: 'server', socket: await listener.next(), credentials: rotated });
    listener.server.close();
    expect(await seen).toContain('sa/one');
    if (peer.ok) await peer.reject();
  });
});
