// TLS 1.3 session resumption between engine ends (native/tls_resume.c), and with openssl s_client.
import { execFileSync } from 'node:child_process';
import { describeRequiring } from '@switchyard/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import type { FailedHandshake, PeerHandshake } from './peer-handshake.js';
import { createRelayEngine } from './relay-engine.js';
import {
  credentials,
  dial,
  firstData,
  fixture,
  fixturePath,
  pausedServer,
  socketPair,
} from './test-support/loopback.js';
import type { TlsContext } from './tls-credentials.js';

const CLIENT_ID = 'spiffe://cluster.local/ns/test/sa/client';
const SERVER_ID = 'spiffe://cluster.local/ns/test/sa/server';
const PYTHON = '/usr/bin/python3';

/**
 * Credentials whose leaf, from the test CA, expires `seconds` from now; with `issuerSeconds`, the
 * leaf comes from an intermediate CA (sent in the chain) that expires then.
 */
function shortLived(spiffeId: string, seconds: number, issuerSeconds?: number) {
  const script = new URL('./test-support/short-lived-cert.py', import.meta.url).pathname;
  const out = execFileSync(PYTHON, [
    script,
    fixturePath('ca.pem'),
    fixturePath('ca-key.pem'),
    spiffeId,
    `${seconds}`,
    ...(issuerSeconds === undefined ? [] : [`${issuerSeconds}`]),
  ]);
  const { cert, key } = JSON.parse(out.toString()) as { cert: string; key: string };
  return { cert, key, ca: fixture('ca.pem'), groups: 'X25519' };
}

const cryptographyMissing = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import cryptography'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'python3-cryptography is missing (apt-get install python3-cryptography)';
  }
})();

type Handshake = PeerHandshake | FailedHandshake;

describe('TLS session resumption on the engine', () => {
  const engine = createRelayEngine({ threads: 2 });
  afterAll(() => engine.close());

  /** One connection to `port`: the engine dials as `client` and serves the accepted end as `server`. */
  async function connect(
    listener: Awaited<ReturnType<typeof pausedServer>>,
    client: TlsContext,
    server: TlsContext,
  ) {
    const [clientEnd, serverEnd] = await Promise.all([
      dial(listener.port).then((socket) => engine.tls({ role: 'client', socket, credentials: client })),
      listener.next().then((socket) => engine.tls({ role: 'server', socket, credentials: server })),
    ]);
    return { clientEnd, serverEnd };
  }

  /** Relays a ping from the client's app to the server's app and back, then ends both. */
  async function pingPong(clientEnd: Handshake, serverEnd: Handshake) {
    if (!clientEnd.ok || !serverEnd.ok) throw new Error('handshake failed');
    const user = await socketPair();
    const app = await socketPair();
    const results = [clientEnd.accept(user.inside), serverEnd.accept(app.inside)];
    const atApp = firstData(app.outside);
    user.outside.write('ping');
    expect((await atApp).toString()).toBe('ping');
    const atUser = firstData(user.outside); // the ticket came before this reply
    app.outside.write('pong');
    expect((await atUser).toString()).toBe('pong');
    user.outside.end();
    app.outside.end();
    await Promise.all(results);
  }

  it('resumes the next connection to the same destination, and both ends still name each other', async () => {
    const listener = await pausedServer();
    const client = engine.createTlsContext(credentials('client'));
    const server = engine.createTlsContext(credentials('server'));
    const first = await connect(listener, client, server);
    expect(first.clientEnd).toMatchObject({ ok: true, resumed: false, spiffeId: SERVER_ID });
    expect(first.serverEnd).toMatchObject({ ok: true, resumed: false, spiffeId: CLIENT_ID });
    await pingPong(first.clientEnd, first.serverEnd);
    for (let i = 0; i < 3; i++) {
      const next = await connect(listener, client, server);
      expect(next.clientEnd).toMatchObject({ ok: true, resumed: true, spiffeId: SERVER_ID });
      expect(next.serverEnd).toMatchObject({ ok: true, resumed: true, spiffeId: CLIENT_ID });
      expect((next.serverEnd as PeerHandshake).chain.map((c) => c.subjectAltName)).toEqual([
        `URI:${CLIENT_ID}`,
      ]);
      expect((next.serverEnd as PeerHandshake).protocol).toMatch(/x25519$/i); // a fresh key exchange each time
      await pingPong(next.clientEnd, next.serverEnd);
    }
    listener.server.close();
  });

  it('does a full handshake after either side rotated its context', async () => {
    const listener = await pausedServer();
    const client = engine.createTlsContext(credentials('client'));
    const first = await connect(listener, client, engine.createTlsContext(credentials('server')));
    await pingPong(first.clientEnd, first.serverEnd);
    // a new server context has new ticket keys: the client's ticket is not accepted
    const rotatedServer = engine.createTlsContext(credentials('server'));
    const afterServer = await connect(listener, client, rotatedServer);
    expect(afterServer.clientEnd).toMatchObject({ ok: true, resumed: false, spiffeId: SERVER_ID });
    expect(afterServer.serverEnd).toMatchObject({ ok: true, resumed: false, spiffeId: CLIENT_ID });
    await pingPong(afterServer.clientEnd, afterServer.serverEnd);
    // a new client context remembers no session
    const afterClient = await connect(
      listener,
      engine.createTlsContext(credentials('client')),
      rotatedServer,
    );
    expect(afterClient.clientEnd).toMatchObject({ ok: true, resumed: false });
    expect(afterClient.serverEnd).toMatchObject({ ok: true, resumed: false });
    await pingPong(afterClient.clientEnd, afterClient.serverEnd);
    listener.server.close();
  });

  it('keeps sessions per destination: another port gets a full handshake', async () => {
    const [one, two] = [await pausedServer(), await pausedServer()];
    const client = engine.createTlsContext(credentials('client'));
    const server = engine.createTlsContext(credentials('server'));
    const first = await connect(one, client, server);
    await pingPong(first.clientEnd, first.serverEnd);
    const other = await connect(two, client, server);
    expect(other.clientEnd).toMatchObject({ ok: true, resumed: false });
    await pingPong(other.clientEnd, other.serverEnd);
    one.server.close();
    two.server.close();
  });

  /** The client's app gets nothing from a server end that refused it. */
  async function closedWithNothing(clientEnd: PeerHandshake) {
    const user = await socketPair();
    user.outside.on('error', () => undefined); // the refusal resets the connection
    expect((await clientEnd.accept(user.inside)).up).toBe(0);
    user.outside.destroy();
  }

  it('decides a resumed client by the server’s admission table as it is now, and JavaScript may still refuse it', async () => {
    const listener = await pausedServer();
    const client = engine.createTlsContext(credentials('client'));
    const server = engine.createTlsContext(credentials('server'));
    const slot = engine.admission.allocate();
    const admitting = { selfTrustDomain: 'cluster.local', rules: [{ spiffeId: CLIENT_ID }] };
    /** A connection whose server end asks the table at `slot`; both ends' handshakes. */
    const decided = async () => {
      const [clientEnd, serverEnd] = await Promise.all([
        dial(listener.port).then((socket) => engine.tls({ role: 'client', socket, credentials: client })),
        listener.next().then((socket) =>
          engine.tls({
            role: 'server',
            socket,
            credentials: server,
            admission: { slot, pinned: false, trustDomainFallback: false },
          }),
        ),
      ]);
      return { clientEnd, serverEnd };
    };
    engine.admission.set(slot, admitting);
    const first = await decided();
    // admitted by the table: a server end without its app's socket still waits for accept()
    expect(first.serverEnd).toMatchObject({ ok: true, resumed: false });
    expect((first.serverEnd as PeerHandshake).admitted).toBeUndefined();
    await pingPong(first.clientEnd, first.serverEnd);
    const again = await decided();
    expect(again.serverEnd).toMatchObject({ ok: true, resumed: true });
    expect((again.serverEnd as PeerHandshake).admitted).toBeUndefined();
    await pingPong(again.clientEnd, again.serverEnd);
    // the server's authorization no longer names the client: its resumed session is refused
    engine.admission.set(slot, { selfTrustDomain: 'cluster.local', rules: [{ namespace: 'elsewhere' }] });
    const refused = await decided();
    expect(refused.clientEnd).toMatchObject({ ok: true, resumed: true });
    expect(refused.serverEnd).toMatchObject({ ok: true, resumed: true, admitted: 'refused' });
    if (refused.clientEnd.ok) await closedWithNothing(refused.clientEnd);
    // a reset marks the client's session spent (OpenSSL): a full handshake brings a new one
    const full = await connect(listener, client, server);
    await pingPong(full.clientEnd, full.serverEnd);
    // without the table, JavaScript decides a resumed peer as any other: a reject closes it
    const asked = await connect(listener, client, server);
    expect(asked.serverEnd).toMatchObject({ ok: true, resumed: true });
    if (!asked.serverEnd.ok || !asked.clientEnd.ok) throw new Error('handshake failed');
    expect(asked.serverEnd.admitted).toBeUndefined();
    await asked.serverEnd.reject();
    await closedWithNothing(asked.clientEnd);
    engine.admission.release(slot);
    listener.server.close();
  });

  it('serves concurrent handshakes on both engine threads from one context’s session table', async () => {
    const listeners = [await pausedServer(), await pausedServer()];
    const client = engine.createTlsContext(credentials('client'));
    const server = engine.createTlsContext(credentials('server'));
    for (const listener of listeners) {
      const first = await connect(listener, client, server);
      await pingPong(first.clientEnd, first.serverEnd);
    }
    // each connection reads its destination's slot and stores the renewed session while others do
    // (the ASan build checks the table's memory: asan.test.ts)
    const rounds = await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const pair = await connect(listeners[i % 2] as (typeof listeners)[0], client, server);
        await pingPong(pair.clientEnd, pair.serverEnd);
        return pair.clientEnd.ok && pair.serverEnd.ok;
      }),
    );
    expect(rounds).toEqual(rounds.map(() => true));
    for (const listener of listeners) listener.server.close();
  });

  describeRequiring(cryptographyMissing, 'past a certificate’s expiry', () => {
    it('a server does not resume a client whose certificate expired since: the full handshake fails', async () => {
      const listener = await pausedServer();
      const client = engine.createTlsContext(shortLived(CLIENT_ID, 3));
      const server = engine.createTlsContext(credentials('server'));
      const first = await connect(listener, client, server);
      expect(first.serverEnd).toMatchObject({ ok: true, resumed: false, spiffeId: CLIENT_ID });
      await pingPong(first.clientEnd, first.serverEnd);
      await new Promise((r) => setTimeout(r, 4_000));
      const late = await connect(listener, client, server);
      expect(late.serverEnd.ok).toBe(false); // the expired certificate, verified again
      if (late.clientEnd.ok) late.clientEnd.abort();
      listener.server.close();
    });

    it('a server does not resume a client whose issuing CA expired since (the leaf did not): the full handshake fails', async () => {
      const listener = await pausedServer();
      const client = engine.createTlsContext(shortLived(CLIENT_ID, 86_400, 3));
      const server = engine.createTlsContext(credentials('server'));
      const first = await connect(listener, client, server);
      expect(first.serverEnd).toMatchObject({ ok: true, resumed: false, spiffeId: CLIENT_ID });
      await pingPong(first.clientEnd, first.serverEnd);
      await new Promise((r) => setTimeout(r, 4_000));
      const late = await connect(listener, client, server);
      expect(late.serverEnd.ok).toBe(false); // the expired intermediate, verified again
      if (late.clientEnd.ok) late.clientEnd.abort();
      listener.server.close();
    });

    it('resuming before the issuing CA expired does not carry the session past it (a renewed ticket ends when the one it renews does)', async () => {
      const listener = await pausedServer();
      const client = engine.createTlsContext(credentials('client'));
      const server = engine.createTlsContext(shortLived(SERVER_ID, 86_400, 4));
      const first = await connect(listener, client, server);
      expect(first.clientEnd).toMatchObject({ ok: true, resumed: false });
      await pingPong(first.clientEnd, first.serverEnd);
      await new Promise((r) => setTimeout(r, 2_000));
      const resumed = await connect(listener, client, server);
      expect(resumed.clientEnd).toMatchObject({ ok: true, resumed: true });
      await pingPong(resumed.clientEnd, resumed.serverEnd); // a ticket sent now would come first
      await new Promise((r) => setTimeout(r, 3_000));
      const late = await connect(listener, client, server);
      expect(late.clientEnd.ok).toBe(false);
      if (late.serverEnd.ok) late.serverEnd.abort();
      listener.server.close();
    });

    it('a client does not offer a session whose server’s issuing CA expired since: the full handshake fails', async () => {
      const listener = await pausedServer();
      const client = engine.createTlsContext(credentials('client'));
      const server = engine.createTlsContext(shortLived(SERVER_ID, 86_400, 3));
      const first = await connect(listener, client, server);
      expect(first.clientEnd).toMatchObject({ ok: true, resumed: false, spiffeId: SERVER_ID });
      await pingPong(first.clientEnd, first.serverEnd);
      await new Promise((r) => setTimeout(r, 4_000));
      const late = await connect(listener, client, server);
      expect(late.clientEnd.ok).toBe(false);
      if (late.serverEnd.ok) late.serverEnd.abort();
      listener.server.close();
    });

    it('a client does not offer a session whose server certificate expired since: the full handshake fails', async () => {
      const listener = await pausedServer();
      const client = engine.createTlsContext(credentials('client'));
      const server = engine.createTlsContext(shortLived(SERVER_ID, 3));
      const first = await connect(listener, client, server);
      expect(first.clientEnd).toMatchObject({ ok: true, resumed: false, spiffeId: SERVER_ID });
      await pingPong(first.clientEnd, first.serverEnd);
      await new Promise((r) => setTimeout(r, 4_000));
      const late = await connect(listener, client, server);
      expect(late.clientEnd.ok).toBe(false);
      if (late.serverEnd.ok) late.serverEnd.abort();
      listener.server.close();
    });
  });
});
