import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CarrierFactory } from '../carrier.js';
import type { WorkloadStatus } from '../data-plane.js';
import type { Endpoint } from '../decide.js';
import {
  type CarrierPair,
  createTestPki,
  dialOutbound,
  eventually,
  LOCAL,
  type PairOptions,
  readAll,
  sendRandom,
  startApp,
  startPair,
  type TestPki,
} from './lab.js';

/** Options of {@link describeCarrierCompliance}. */
export interface CarrierComplianceOptions {
  /** Makes the carrier factory under test (a fresh one per workload). */
  carrier: () => CarrierFactory;
  /** Where a client workload reaches a server workload: its mTLS inbound port, its HBONE port… */
  route: (server: WorkloadStatus) => Endpoint;
  /** Suite title suffix. Default: the carrier's name. */
  title?: string;
}

const MiB = 1024 * 1024;

/** This process's open file descriptors (Linux), or 0 where /proc is not there. */
function openDescriptors(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

/**
 * The carrier compliance suite — the data-plane twin of the driver suite. Every carrier, ours
 * and third parties', runs it: two data planes on loopback, a client workload and a server
 * workload joined by the carrier, an app behind the server.
 *
 * @example
 * ```ts
 * import { describeCarrierCompliance } from '@switchyard/dataplane/testing';
 * describeCarrierCompliance({
 *   carrier: () => mtlsCarrier(),
 *   route: (server) => ({ address: '127.0.0.1', port: server.listeners.find((l) => l.role === 'inbound')!.port }),
 * });
 * ```
 */
export function describeCarrierCompliance(o: CarrierComplianceOptions): void {
  describe(`carrier compliance: ${o.title ?? o.carrier().name}`, () => {
    let pki: TestPki;
    const open: CarrierPair[] = [];
    const pair = async (extra: Partial<PairOptions> = {}) => {
      const p = await startPair({ carrier: o.carrier, route: o.route, pki, ...extra });
      open.push(p);
      return p;
    };
    beforeAll(async () => {
      pki = await createTestPki();
    });
    afterAll(() => pki.dispose());
    afterEach(async () => {
      for (const p of open.splice(0)) await p.dispose();
    });

    it('carries 64 MiB each way with equal sha256', async () => {
      const p = await pair();
      const s = dialOutbound(p.outboundPort);
      const back = readAll(s);
      const sent = await sendRandom(s, 64 * MiB);
      const got = await back;
      expect(got.bytes).toBe(64 * MiB);
      expect(got.sha256).toBe(sent);
      expect(p.app.received()).toBe(64 * MiB);
    });

    it('carries half-close client → app: the app sees the end, and its answer still arrives', async () => {
      const p = await pair();
      p.app.mode = 'sink';
      const s = dialOutbound(p.outboundPort);
      s.end('request');
      await eventually(() => p.app.sockets[0]?.readableEnded === true, 2_000);
      expect(p.app.received()).toBe('request'.length);
      const app = p.app.sockets[0]!;
      app.end('answer after your end');
      expect((await readAllText(s)).text).toBe('answer after your end');
    });

    it('carries half-close app → client: the client sees the end, and can still send', async () => {
      const p = await pair();
      p.app.mode = 'sink';
      const s = dialOutbound(p.outboundPort);
      s.write('hello');
      expect(await eventually(() => p.app.sockets.length === 1 && p.app.received() === 5, 2_000)).toBe(true);
      const ended = new Promise((r) => s.once('end', r));
      s.resume();
      p.app.sockets[0]!.end();
      await ended;
      s.end('still sending');
      expect(await eventually(() => p.app.received() === 5 + 'still sending'.length, 2_000)).toBe(true);
    });

    it('holds memory bounded when the app stops reading: the sender is paused', async () => {
      const p = await pair();
      p.app.mode = 'stall';
      const s = dialOutbound(p.outboundPort);
      let accepted = 0;
      const chunk = Buffer.alloc(MiB);
      // Write until the stack has pushed back for half a second; bounded at 512 MiB offered.
      for (let i = 0; i < 512; i++) {
        if (s.write(chunk)) {
          accepted += chunk.length;
          continue;
        }
        accepted += chunk.length;
        const drained = await Promise.race([
          new Promise((r) => s.once('drain', () => r(true))),
          new Promise((r) => setTimeout(() => r(false), 500)),
        ]);
        if (!drained) break;
      }
      // Socket buffers plus flow-control windows: far below what was offered.
      expect(accepted).toBeLessThan(128 * MiB);
      s.destroy();
    });

    it('delivers zero bytes to the app for a denied peer, and counts the denial', async () => {
      const p = await pair({ inbound: { authorization: { allow: [{ namespace: 'nobody' }] } } });
      const s = dialOutbound(p.outboundPort);
      s.write('SECRET-PAYLOAD');
      await readAll(s);
      await new Promise((r) => setTimeout(r, 100));
      expect(p.app.received()).toBe(0);
      expect(p.app.sockets).toHaveLength(0);
      expect(await p.server.metrics.registry.metrics()).toMatch(
        /switchyard_authorization_denials_total\{[^}]*\} 1/,
      );
    });

    it('never falls back to plaintext when TLS fails: a plain peer sees only a TLS handshake', async () => {
      const plain = await startApp();
      plain.mode = 'sink';
      const p = await pair({ routeTo: { address: LOCAL, port: plain.port }, handshakeTimeoutMs: 500 });
      const s = dialOutbound(p.outboundPort);
      s.write('SECRET-PAYLOAD');
      const result = await readAll(s);
      expect(result.bytes).toBe(0);
      await plain.close();
      expect(p.app.received()).toBe(0);
      expect(plain.received()).toBeGreaterThan(0);
    });

    it('keeps an open connection across a certificate rotation, and serves new ones after it', async () => {
      const p = await pair();
      const s = dialOutbound(p.outboundPort);
      const echoed: Buffer[] = [];
      s.on('data', (d: Buffer) => echoed.push(d));
      s.write('before ');
      expect(await eventually(() => Buffer.concat(echoed).length === 7, 2_000)).toBe(true);
      await p.rotateServer();
      s.write('after');
      expect(await eventually(() => Buffer.concat(echoed).toString() === 'before after', 2_000)).toBe(true);
      const fresh = dialOutbound(p.outboundPort);
      fresh.end('new connection');
      expect((await readAllText(fresh)).text).toBe('new connection');
      s.destroy();
    });

    it('drains without losing a byte: an open transfer finishes, new connections are refused', async () => {
      const p = await pair();
      const s = dialOutbound(p.outboundPort);
      const back = readAll(s);
      s.write(Buffer.alloc(MiB, 1));
      await eventually(() => p.app.received() > 0, 2_000);
      const drained = p.client.removeWorkload('client', 10_000);
      const late = dialOutbound(p.outboundPort);
      expect((await readAll(late)).bytes).toBe(0);
      const sent = await sendRandom(s, 8 * MiB);
      const got = await back;
      expect(got.bytes).toBe(9 * MiB);
      expect(got.error).toBeUndefined();
      void sent;
      await drained;
    });

    it('resets what is still open at the drain deadline, so the app never sees a clean end', async () => {
      const p = await pair();
      const s = dialOutbound(p.outboundPort);
      s.write('x');
      await eventually(() => p.app.received() === 1, 2_000);
      const appSide = readAll(p.app.sockets[0]!);
      const clientSide = readAll(s);
      await p.client.removeWorkload('client', 200);
      expect((await clientSide).error).toBe('ECONNRESET');
      expect((await appSide).error).toBeDefined();
      expect(await p.client.metrics.registry.metrics()).toMatch(
        /switchyard_drain_resets_total\{[^}]*\} [1-9]/,
      );
    });

    it('sheds handshakes that never finish (per source), times them out, and keeps serving established peers', async () => {
      const p = await pair({ handshakeTimeoutMs: 1_500, limits: { maxPendingHandshakesPerSource: 50 } });
      const target = o.route(p.serverStatus);
      const baseline = openDescriptors();
      // 200 clients with no certificate that never start TLS, from another loopback address.
      const idle = Array.from({ length: 200 }, () => {
        const s = connect({ host: target.address, port: target.port, localAddress: '127.0.0.2' });
        s.on('error', () => undefined);
        return s;
      });
      await eventually(() => idle.every((s) => !s.connecting), 2_000);
      // Meanwhile, established peers are served.
      for (let i = 0; i < 10; i++) {
        const s = dialOutbound(p.outboundPort);
        s.end(`peer ${i}`);
        expect((await readAll(s)).bytes).toBe(`peer ${i}`.length);
      }
      // Every idle one is gone after the handshake timeout.
      expect(await eventually(() => idle.every((s) => s.destroyed), 4_000)).toBe(true);
      const metrics = await p.server.metrics.registry.metrics();
      expect(metrics).toMatch(/switchyard_tls_handshakes_pending\{[^}]*\} 0/);
      const shed = Number(
        /switchyard_tls_failures_total\{[^}]*reason="pending-per-source"\} (\d+)/.exec(metrics)?.[1],
      );
      const timedOut = Number(
        /switchyard_tls_failures_total\{[^}]*reason="timeout"\} (\d+)/.exec(metrics)?.[1],
      );
      // Descriptors come back to where they were (within 10 %) once the attack is over.
      expect(await eventually(() => openDescriptors() <= baseline * 1.1, 2_000)).toBe(true);
      // Each one either waited its turn and timed out, or was shed at once: all 200 accounted for.
      expect(shed + timedOut).toBe(200);
      expect(shed).toBeGreaterThanOrEqual(100);
    });

    it('detects a peer that dies, frees its resources within 1 s, and counts it', async () => {
      const p = await pair();
      const s = dialOutbound(p.outboundPort);
      s.write('x');
      await eventually(() => p.app.received() === 1, 2_000);
      const clientSide = readAll(s);
      const started = Date.now();
      await p.server.close(0);
      const result = await clientSide;
      expect(result.error).toBeDefined();
      expect(Date.now() - started).toBeLessThan(1_000);
      const freed = await eventually(() => (p.client.workload('client')?.active.outbound ?? 1) === 0, 1_000);
      expect(freed).toBe(true);
      expect(await p.client.metrics.registry.metrics()).toMatch(
        /switchyard_connections_total\{[^}]*direction="outbound",outcome="failed"\} 1/,
      );
    });
  });
}

async function readAllText(s: import('node:net').Socket): Promise<{ text: string }> {
  const chunks: Buffer[] = [];
  s.on('data', (d: Buffer) => chunks.push(d));
  await new Promise((r) => {
    s.once('end', r);
    s.once('close', r);
  });
  return { text: Buffer.concat(chunks).toString() };
}
