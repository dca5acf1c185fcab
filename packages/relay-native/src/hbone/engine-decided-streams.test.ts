// HBONE streams decided on the engine thread from the admission table, against an independent
// HTTP/2 client (python3-h2): refusals (peer, authority, proxy port, failed dial) are answered by
// the engine, admitted streams dialled and relayed by it, and JavaScript hears every one of them
// afterwards (never as a stream to decide). A table swapped under load is read whole.
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeRequiring } from '@switchyard/test-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AdmissionStreams } from '../admission/encode-streams.js';
import type { DecidedTunnel, IncomingTunnel } from '../h2-session.js';
import { createRelayEngine } from '../relay-engine.js';
import { credentials, fixturePath, pausedServer } from '../test-support/loopback.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = new URL('../test-support/h2_streams.py', import.meta.url).pathname;
const run = promisify(execFile);
/** The app's address: loopback, but not the address the HBONE connection arrives on (127.0.0.1). */
const APP_HOST = '127.0.0.2';
const CLIENT = 'spiffe://cluster.local/ns/test/sa/client';
const ADMIT_CLIENT = { selfTrustDomain: 'cluster.local', rules: [{ spiffeId: CLIENT }] };
const REFUSE_CLIENT = { selfTrustDomain: 'cluster.local', rules: [{ namespace: 'other' }] };

function missing(): string | undefined {
  try {
    execFileSync(PYTHON, ['-c', 'import h2'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'python3-h2 is not installed (scripts/system-deps.sh installs it)';
  }
}

describeRequiring(missing(), 'HBONE streams decided by the engine from its admission table', () => {
  const engine = createRelayEngine({ threads: 2 });
  const context = engine.createTlsContext({ ...credentials('server'), alpn: 'h2' });
  let certDir: string;
  let app: Server;
  let appPort: number;
  let appConnections = 0;

  beforeAll(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'swy-decided-'));
    copyFileSync(fixturePath('ca.pem'), join(certDir, 'root-cert.pem'));
    copyFileSync(fixturePath('client.pem'), join(certDir, 'cert-chain.pem'));
    copyFileSync(fixturePath('client-key.pem'), join(certDir, 'key.pem'));
    app = createServer((s) => {
      appConnections += 1;
      s.on('error', () => undefined);
      s.pipe(s);
    });
    await new Promise<void>((resolve) => app.listen(0, APP_HOST, resolve));
    appPort = (app.address() as AddressInfo).port;
  });
  afterAll(() => {
    engine.close();
    app.close();
    rmSync(certDir, { recursive: true, force: true });
  });

  /** What a slot decides streams by: the app's address owned, `proxy` a proxy port, the authority dialled. */
  const streams = (o: Partial<AdmissionStreams> = {}): AdmissionStreams => ({
    addresses: [APP_HOST],
    proxyPorts: [15008, 15001],
    dial: { to: 'authority' },
    connectTimeoutMs: 5_000,
    ...o,
  });

  /**
   * python3-h2 opens `count` streams (authorities in turn) on one connection the engine serves
   * with `slot`; resolves with their statuses, the echoes and what JavaScript heard.
   */
  async function streamsThrough(slot: number, count: number, authorities: string[]) {
    const listener = await pausedServer();
    const client = run(
      PYTHON,
      [SCRIPT, '127.0.0.1', String(listener.port), certDir, String(count), ...authorities],
      {
        timeout: 60_000,
      },
    );
    const peer = await engine.tls({ role: 'server', socket: await listener.next(), credentials: context });
    listener.server.close();
    if (!peer.ok) throw new Error(peer.detail);
    const asked: IncomingTunnel[] = [];
    const decided: DecidedTunnel[] = [];
    const session = peer.http2({
      role: 'server',
      onStream: (t) => {
        asked.push(t);
        t.refuse(418); // JavaScript's own answer, told apart from the engine's
      },
      streams: { slot, peer: peer.spiffeId, onDecided: (t) => decided.push(t) },
    });
    const result = JSON.parse((await client).stdout) as { statuses: number[]; echoed: number };
    await session.ended;
    // streams decided in one turn are heard in any order: in stream order here
    decided.sort((a, b) => a.stream - b.stream);
    const ends = await Promise.all(decided.map((t) => t.ended));
    return { ...result, asked, decided, ends };
  }

  it('refuses on the engine: a peer the rules refuse 401, an authority not of the workload 400, a proxy port 503, a failed dial 503', async () => {
    const refusing = engine.admission.allocate();
    engine.admission.set(refusing, { ...REFUSE_CLIENT, streams: streams() });
    const byPeer = await streamsThrough(refusing, 1, [`${APP_HOST}:${appPort}`]);
    expect(byPeer.statuses).toEqual([401]);
    const slot = engine.admission.allocate();
    engine.admission.set(slot, { ...ADMIT_CLIENT, streams: streams() });
    const before = appConnections;
    const r = await streamsThrough(slot, 3, ['10.9.9.9:80', `${APP_HOST}:15008`, `${APP_HOST}:1`]);
    expect(r.statuses).toEqual([400, 503, 503]);
    expect(appConnections).toBe(before); // no app was dialled (port 1 has none)
    expect([...byPeer.decided, ...r.decided].map((t) => [t.verdict, t.code, t.authority])).toEqual([
      ['refused', 'policy', `${APP_HOST}:${appPort}`],
      ['refused', 'not-this-workload', '10.9.9.9:80'],
      ['refused', 'proxy-port', `${APP_HOST}:15008`],
      ['refused', 'connect', `${APP_HOST}:1`],
    ]);
    expect(r.decided[2]?.detail).toMatch(/refused/i);
    expect([...byPeer.asked, ...r.asked]).toEqual([]);
    for (const s of [refusing, slot]) engine.admission.release(s);
  });

  it('admits and dials on the engine: 200, the bytes both ways, and JavaScript hears each tunnel and its end', async () => {
    const slot = engine.admission.allocate();
    engine.admission.set(slot, { ...ADMIT_CLIENT, streams: streams() });
    const before = appConnections;
    const r = await streamsThrough(slot, 20, [`${APP_HOST}:${appPort}`]);
    expect(r.statuses).toEqual(Array.from({ length: 20 }, () => 200));
    expect(r.echoed).toBe(20);
    expect(appConnections - before).toBe(20);
    expect(r.asked).toEqual([]);
    expect(r.decided.map((t) => t.verdict)).toEqual(Array.from({ length: 20 }, () => 'accepted'));
    expect(r.ends).toEqual(Array.from({ length: 20 }, () => ({ up: 4, down: 4, reason: 'eof', code: 0 })));
    engine.admission.release(slot);
  });

  it('leaves to JavaScript what the table does not decide: an empty slot, a slot that does not dial, an authority it does not read as JavaScript does', async () => {
    const empty = engine.admission.allocate();
    const noDial = engine.admission.allocate();
    engine.admission.set(noDial, { ...ADMIT_CLIENT, streams: streams({ dial: undefined }) });
    const a = await streamsThrough(empty, 1, [`${APP_HOST}:${appPort}`]);
    const b = await streamsThrough(noDial, 3, [
      `${APP_HOST}:${appPort}`,
      `[::FFFF:${APP_HOST}]:${appPort}`,
      'nonsense',
    ]);
    expect([...a.statuses, ...b.statuses]).toEqual([418, 418, 418, 418]);
    expect([...a.decided, ...b.decided]).toEqual([]);
    // a slot without a dial still refuses on the engine
    const c = await streamsThrough(noDial, 1, ['10.9.9.9:80']);
    expect(c.statuses).toEqual([400]);
    for (const s of [empty, noDial]) engine.admission.release(s);
  });

  it('never decides a stream from half a table: two tables that each refuse, swapped under load, never admit', async () => {
    // Each refuses (the peer's rules, or the app's address not owned); the rules of the one with
    // the addresses of the other would admit and dial.
    const versions = [
      { ...ADMIT_CLIENT, streams: streams({ addresses: [] }) },
      { ...REFUSE_CLIENT, streams: streams() },
    ];
    const slot = engine.admission.allocate();
    const fillers = Array.from({ length: 200 }, () => engine.admission.allocate());
    for (const [i, f] of fillers.entries())
      engine.admission.set(f, {
        selfTrustDomain: 'd.example',
        rules: [{ namespace: `n${i}` }],
        streams: streams(),
      });
    let swaps = 0;
    let running = true;
    const swapping = (async () => {
      while (running) {
        engine.admission.set(slot, versions[swaps % 2] as (typeof versions)[number]);
        swaps += 1;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const before = appConnections;
    const r = await streamsThrough(slot, 600, [`${APP_HOST}:${appPort}`]);
    running = false;
    await swapping;
    expect(swaps).toBeGreaterThan(50);
    expect(r.statuses.filter((s) => s !== 400 && s !== 401)).toEqual([]);
    expect(new Set(r.statuses)).toEqual(new Set([400, 401]));
    expect(appConnections).toBe(before);
    for (const f of [slot, ...fillers]) engine.admission.release(f);
    expect(engine.admissionLiveTables()).toBe(1);
  }, 90_000);
});
