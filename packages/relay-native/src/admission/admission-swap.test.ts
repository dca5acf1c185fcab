// The admission table replaced hundreds of times while engine threads decide handshakes with
// it: every decision comes from one whole table (phase 1 would admit only from a mix of two), the
// admitted relay at once without JavaScript's answer, and the replaced tables are all freed (the
// ASan suite runs this too, for use after free).
import type { AddressInfo } from 'node:net';
import { type Server, createServer as tlsServer } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { createRelayEngine } from '../relay-engine.js';
import type { RelayResult } from '../relay-result.js';
import { credentials, dial, firstData, fixture, socketPair } from '../test-support/loopback.js';
import type { CompiledPolicy } from './admission-table.js';

const SERVER = 'spiffe://cluster.local/ns/test/sa/server';
/** Phase 1: each refuses the server; our trust domain of the first with the rules of the second admits it. */
const REFUSE_A: CompiledPolicy = { selfTrustDomain: 'cluster.local', rules: [{ namespace: 'other' }] };
const REFUSE_B: CompiledPolicy = { selfTrustDomain: 'elsewhere.example', rules: [{ namespace: 'test' }] };
/** Phase 2: admits the server by its exact ID. */
const ADMIT: CompiledPolicy = { selfTrustDomain: 'cluster.local', rules: [{ spiffeId: SERVER }] };
const FILLER = 300;

/** A TLS echo server with the `server` identity. */
async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = tlsServer({
    cert: fixture('server.pem'),
    key: fixture('server-key.pem'),
    ca: fixture('ca.pem'),
    requestCert: true,
  });
  server.on('secureConnection', (s) => {
    s.on('error', () => undefined); // refused peers are reset
    s.pipe(s);
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('an admission table swapped under load', () => {
  const engine = createRelayEngine({ threads: 2 });
  const context = engine.createTlsContext(credentials('client'));
  afterAll(() => engine.close());

  /** One client connection decided by the table; resolves with its verdict (and checks its bytes). */
  async function connect(port: number, slot: number): Promise<'accepted' | 'refused' | 'ask'> {
    const raw = dial(port);
    const plain = await socketPair();
    // a refused connection's plain side is reset by the engine: asserted by the verdict, not here
    plain.outside.on('error', () => undefined);
    const peer = await engine.tls({
      role: 'client',
      socket: await raw,
      credentials: context,
      admission: { slot, pinned: true, expected: [SERVER], trustDomainFallback: false, plain: plain.inside },
    });
    plain.inside.destroy(); // Node's copy: the engine holds its own
    if (!peer.ok) throw new Error(`${peer.reason} ${peer.detail}`);
    if (!peer.admitted) {
      await peer.reject();
      plain.outside.destroy();
      return 'ask';
    }
    if (peer.admitted === 'accepted') {
      plain.outside.write('ping');
      expect((await firstData(plain.outside)).toString()).toBe('ping');
    }
    plain.outside.end();
    const ended: RelayResult = await peer.accept(plain.inside);
    expect(ended.reason).toBe(peer.admitted === 'accepted' ? 'eof' : 'rejected');
    plain.outside.destroy();
    return peer.admitted;
  }

  /** Runs `count` connections, 8 at a time, while the table flips between `versions` on every turn. */
  async function underSwaps(versions: CompiledPolicy[], count: number) {
    const echo = await echoServer();
    const slot = engine.admission.allocate();
    const fillers = Array.from({ length: FILLER }, () => engine.admission.allocate());
    for (const [i, f] of fillers.entries())
      engine.admission.set(f, { selfTrustDomain: 'd.example', rules: [{ namespace: `n${i}` }] });
    let swaps = 0;
    let running = true;
    const swapping = (async () => {
      while (running) {
        // a whole new table each time (every slot), with this slot's policy changed
        engine.admission.set(slot, versions[swaps % versions.length] as CompiledPolicy);
        swaps += 1;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const verdicts: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < count) {
          next += 1;
          verdicts.push(await connect(echo.port, slot));
        }
      }),
    );
    running = false;
    await swapping;
    echo.server.close();
    for (const f of [slot, ...fillers]) engine.admission.release(f);
    return { verdicts, swaps };
  }

  it('never decides from half a table: two tables that each refuse, swapped, refuse every peer', async () => {
    const { verdicts, swaps } = await underSwaps([REFUSE_A, REFUSE_B], 200);
    expect(swaps).toBeGreaterThan(100);
    expect(verdicts.filter((v) => v !== 'refused')).toEqual([]);
  }, 60_000);

  it('relays admitted peers at once, refuses the rest, and frees every replaced table', async () => {
    const { verdicts, swaps } = await underSwaps([ADMIT, REFUSE_A], 200);
    expect(swaps).toBeGreaterThan(100);
    expect(verdicts.filter((v) => v === 'accepted').length).toBeGreaterThan(0);
    expect(verdicts.filter((v) => v === 'refused').length).toBeGreaterThan(0);
    expect(verdicts).not.toContain('ask');
    expect(engine.admissionLiveTables()).toBe(1);
  }, 60_000);
});
