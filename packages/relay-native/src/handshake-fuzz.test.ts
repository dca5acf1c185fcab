// Hostile peers at the hand-off boundary: handshakes cut (FIN or RST) or corrupted at byte
// positions across both flights, for both roles. Bounded: a fixed list of positions per flight.
import type { Socket } from 'node:net';
import { connect as tlsConnect, createServer as tlsServer } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import type { FailedHandshake, PeerHandshake } from './peer-handshake.js';
import { createRelayEngine } from './relay-engine.js';
import { credentials, fixture, socketPair } from './test-support/loopback.js';

type Action = 'end' | 'reset' | 'flip';
interface Cut {
  /** toEngine: bytes the Node peer sends; fromEngine: bytes the engine sends */
  flight: 'toEngine' | 'fromEngine';
  at: number;
  action: Action;
}

/** Forwards src → dst, applying `cut` once the flight reaches its position; counts bytes. */
function forward(
  src: Socket,
  dst: Socket,
  engineSide: Socket,
  cut: Cut | undefined,
  counter: { n: number },
): void {
  src.on('data', (chunk: Buffer) => {
    const start = counter.n;
    counter.n += chunk.length;
    if (!cut || counter.n <= cut.at) {
      dst.write(chunk);
      return;
    }
    const offset = cut.at - start;
    if (cut.action === 'flip') {
      const copy = Buffer.from(chunk);
      copy[offset] = (copy[offset] ?? 0) ^ 0x5a;
      dst.write(copy);
      cut = undefined;
      return;
    }
    src.removeAllListeners('data');
    dst.write(chunk.subarray(0, offset), () => {
      if (cut?.action === 'reset') engineSide.resetAndDestroy();
      else engineSide.end();
    });
  });
  src.resume();
}

describe('handshake hand-off under cuts and corruption', () => {
  const engine = createRelayEngine({ threads: 2, handshakeTimeoutMs: 2000 });
  const serverContext = engine.createTlsContext(credentials('server'));
  const clientContext = engine.createTlsContext(credentials('client'));
  afterAll(() => engine.close());

  /** Node peer ⇄ [front | JS cutter | wire] ⇄ engine. Resolves with the engine's handshake outcome. */
  async function attempt(role: 'server' | 'client', cut?: Cut) {
    const wire = await socketPair();
    const front = await socketPair();
    const sockets = [wire.outside, front.inside, front.outside];
    for (const s of sockets) s.on('error', () => undefined); // cuts make errors on purpose
    const handshake = engine.tls({
      role,
      socket: wire.inside,
      credentials: role === 'server' ? serverContext : clientContext,
    });
    const counts = { toEngine: { n: 0 }, fromEngine: { n: 0 } };
    forward(
      front.inside,
      wire.outside,
      wire.outside,
      cut?.flight === 'toEngine' ? cut : undefined,
      counts.toEngine,
    );
    forward(
      wire.outside,
      front.inside,
      wire.outside,
      cut?.flight === 'fromEngine' ? cut : undefined,
      counts.fromEngine,
    );
    const nodePeer = nodeEnd(role, front.outside);
    const outcome: PeerHandshake | FailedHandshake = await handshake;
    if (outcome.ok) await outcome.reject();
    nodePeer.destroy();
    for (const s of sockets) s.destroy();
    return { outcome, counts: { toEngine: counts.toEngine.n, fromEngine: counts.fromEngine.n } };
  }

  function nodeEnd(engineRole: 'server' | 'client', socket: Socket) {
    const common = { cert: '', key: '', ca: fixture('ca.pem'), ecdhCurve: 'X25519' };
    if (engineRole === 'server') {
      const s = tlsConnect({
        ...common,
        socket,
        cert: fixture('client.pem'),
        key: fixture('client-key.pem'),
        checkServerIdentity: () => undefined,
      });
      s.on('error', () => undefined);
      return s;
    }
    // the Node end is a TLS server on an already-connected socket
    const server = tlsServer({
      ...common,
      cert: fixture('server.pem'),
      key: fixture('server-key.pem'),
      requestCert: true,
    });
    server.on('tlsClientError', () => undefined);
    server.emit('connection', socket);
    return { destroy: () => server.close() };
  }

  for (const role of ['server', 'client'] as const) {
    it(`engine as TLS ${role}: every cut ends in a clean refusal, and nothing leaks`, async () => {
      const clean = await attempt(role);
      expect(clean.outcome.ok).toBe(true);
      const outcomes = new Map<string, number>();
      for (const flight of ['toEngine', 'fromEngine'] as const) {
        const total = clean.counts[flight];
        const positions = new Set([0, 1, 3, 4, 5, 6, 9, 10, 40, total - 2, total - 1]);
        for (let p = 11; p < total; p += 61) positions.add(p);
        for (const at of [...positions].filter((p) => p >= 0 && p < total)) {
          for (const action of ['end', 'reset', 'flip'] as const) {
            const { outcome } = await attempt(role, { flight, at, action });
            const key = outcome.ok ? 'ok' : outcome.reason;
            outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          }
        }
      }
      // a corrupted length can leave the engine waiting for bytes that never come: the timeout ends it
      const allowed = ['handshake-failed', 'handshake-timeout', 'identity', 'ok'];
      expect([...outcomes.keys()].filter((k) => !allowed.includes(k))).toEqual([]);
      expect(outcomes.get('handshake-failed') ?? 0).toBeGreaterThan(20);
      await expect.poll(() => engine.stats().connections).toBe(0);
    });
  }
});
