import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { NetnsTarget } from '@switchyard/core';
import type { CarrierFactory } from '@switchyard/dataplane';
import { DataPlane, silentLogger } from '@switchyard/dataplane';
import { tproxyDriver } from '@switchyard/driver-tproxy';
import { createLab, describePrivileged, type Lab } from '@switchyard/driver-tproxy/testing';
import { CertificateStore } from '@switchyard/mesh';
import { createTestPki, issueCrafted, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { buildGoPeer, type GoPeer, INTEROP_DIR } from './go-peer.js';

// A hostile but authenticated workload, written on an independent HTTP/2 stack (Debian's
// python3-h2), talks to an HBONE server that serves one workload in its own network namespace,
// with real transparent sockets, the way the agent runs it.
const PYTHON = '/usr/bin/python3';
const CLIENT = join(INTEROP_DIR, 'hbone_client.py');
const APP_PORT = 8080;

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; await new Promise((r) => setTimeout(r, 20)))
    if (check()) return true;
  return check();
}

/**
 * The HBONE hostile-peer suite: an HBONE server (the given carrier) serving one workload in its
 * own network namespace with real transparent sockets, attacked from another namespace by
 * python3-h2 (floods, resets, forged headers, two SPIFFE IDs) while Go's HTTP/2 client opens
 * legitimate tunnels beside it. Needs root (skips outside CI, fails in CI without it).
 */
export function describeHboneHostilePeer(name: string, carrier: () => CarrierFactory): void {
  describePrivileged(`HBONE against a hostile peer (${name}; python3-h2 and Go, network namespaces)`, () => {
    let pki: TestPki;
    let clientDir: string;
    let goPeer: GoPeer;
    let goClient: string;
    let lab: Lab;
    let plane: DataPlane;
    let app: Server;
    let appSockets: Socket[];
    let appSources: string[];
    const driver = tproxyDriver();
    const ops = driver.socketOps;
    const ns = (name: string): NetnsTarget => ({ kind: 'netns', name });

    beforeAll(async () => {
      pki = await createTestPki();
      clientDir = await pki.issue('peer', 'web');
      goPeer = await buildGoPeer();
      goClient = goPeer.binary;
    }, 150_000);
    afterAll(async () => {
      await pki.dispose();
      await goPeer.dispose();
    });
    beforeEach(async () => {
      lab = createLab();
      appSockets = [];
      appSources = [];
      // The capture rules also route replies to dials that keep the client's address back to the proxy.
      await driver.apply(ns(lab.b.name), {
        families: ['ipv4'],
        inbound: { port: 15006, excludePorts: [15008] },
      });
      app = await ops.listen({ port: APP_PORT, target: ns(lab.b.name) });
      app.on('connection', (s: Socket) => {
        appSockets.push(s);
        appSources.push(s.remoteAddress ?? '');
        s.on('error', () => undefined);
        s.on('data', (d) => s.write(d));
        s.on('end', () => s.end());
      });
      // The legitimate peers here share the attacker's address, so the penalty a GOAWAY earns its
      // source is off; it is proven through the CLI, with a peer of its own address, in
      // tests/src/attack/hbone-held.test.ts.
      plane = new DataPlane({
        socketOps: ops,
        identityFallback: 'trust-domain',
        logger: silentLogger,
        limits: { abusePenaltyMs: 0 },
      });
      await plane.addWorkload({
        id: 'web/server',
        target: ns(lab.b.name),
        identity: await CertificateStore.open(await pki.issue('server', 'web'), { watch: false }),
        carrier: carrier(),
        addresses: [lab.b.v4],
        policy: { ports: { hbone: 15008 }, inbound: {} },
      });
    });
    afterEach(async () => {
      await plane.close(0);
      await new Promise((r) => app.close(r));
      lab.destroy();
    });

    const python = async (authority: string, ...mode: string[]) => {
      const { stdout } = await promisify(execFile)(
        'ip',
        ['netns', 'exec', lab.a.name, PYTHON, CLIENT, lab.b.v4, '15008', clientDir, authority, ...mode],
        { timeout: 30_000 },
      );
      return JSON.parse(stdout);
    };

    const go = async (authority: string) => {
      const { stdout } = await promisify(execFile)(
        'ip',
        ['netns', 'exec', lab.a.name, goClient, `${lab.b.v4}:15008`, clientDir, authority],
        { timeout: 30_000 },
      );
      return JSON.parse(stdout) as { status: number; echo: string; error?: string };
    };

    /**
     * Runs an attack with a legitimate peer (Go's HTTP/2 client, from the same namespace) opening
     * tunnels beside it, one after another, until the attack is over; then waits for this
     * process's descriptors to come back to within 10 % of where they were.
     */
    async function beside<T>(
      attack: Promise<T>,
    ): Promise<{ result: T; legit: { ok: number; tried: number } }> {
      const baseline = readdirSync('/proc/self/fd').length;
      let over = false;
      const legit = { ok: 0, tried: 0 };
      const peer = (async () => {
        while (!over && legit.tried < 50) {
          legit.tried += 1;
          if ((await go(`${lab.b.v4}:${APP_PORT}`).catch(() => ({ status: 0 }))).status === 200)
            legit.ok += 1;
        }
      })();
      const result = await attack.finally(() => {
        over = true;
      });
      await peer;
      expect(await waitFor(() => readdirSync('/proc/self/fd').length <= baseline * 1.1, 3_000)).toBe(true);
      return { result, legit };
    }

    it("Go's HTTP/2 client: tunnels (200, echo, half-close), 400 for another workload's address, 503 for the proxy's port", async () => {
      expect(await go(`${lab.b.v4}:${APP_PORT}`)).toEqual({ status: 200, echo: 'hello from go' });
      expect((await go(`${lab.a.v4}:${APP_PORT}`)).status).toBe(400);
      expect((await go(`${lab.b.v4}:15008`)).status).toBe(503);
      expect(appSources).toEqual([lab.a.v4]);
    });

    it('the app sees the TCP peer as the source, never the address a `forwarded` header claims', async () => {
      const result = await python(`${lab.b.v4}:${APP_PORT}`, 'tunnel');
      expect(result).toMatchObject({ status: 200, echo: 'hello from python-h2', ended: true });
      // The client claimed for="192.0.2.10:4242"; the app saw the client's own address.
      expect(appSources).toEqual([lab.a.v4]);
    });

    it('answers 400 to an authority that is not an address of the workload: no open relay', async () => {
      expect((await python(`${lab.a.v4}:${APP_PORT}`, 'tunnel')).status).toBe(400);
      expect((await python('10.99.0.1:80', 'tunnel')).status).toBe(400);
      expect((await python('127.0.0.1:22', 'tunnel')).status).toBe(400);
      expect(appSockets).toHaveLength(0);
      expect(await plane.metrics.registry.metrics()).toMatch(
        /switchyard_refusals_total\{[^}]*reason="not-this-workload"\} 3/,
      );
    });

    it('answers 503 to a tunnel aimed at the proxy itself (15008, 15006, 15001, admin): no loop', async () => {
      for (const port of [15008, 15006, 15001, 15020])
        expect((await python(`${lab.b.v4}:${port}`, 'tunnel')).status).toBe(503);
      expect(await plane.metrics.registry.metrics()).toMatch(
        /switchyard_refusals_total\{[^}]*reason="proxy-port"\} 4/,
      );
    });

    it('a peer that drops its TCP connection leaves no session in CLOSE-WAIT and no app connection', async () => {
      const result = await python(`${lab.b.v4}:${APP_PORT}`, 'abandon');
      expect(result).toEqual({ status: 200, echo: 'ping' });
      // Polled (bounded), not slept: a loaded machine may take longer to close, never forever.
      await expect.poll(() => lab.run(lab.b.name, 'ss', '-Htn', 'state', 'close-wait').trim()).toBe('');
      await expect.poll(() => appSockets.filter((s) => !s.destroyed).length).toBe(0);
      expect(lab.run(lab.b.name, 'ss', '-Htn', 'state', 'established').trim()).toBe('');
    });

    it('a WINDOW_UPDATE flood is cut off (ENHANCE_YOUR_CALM) before it ends, and the legitimate peer is served', async () => {
      const { result, legit } = await beside(python(`${lab.b.v4}:${APP_PORT}`, 'window-flood', '10'));
      // closed: the server cut the connection before the flood's 10 s were over.
      expect(result.closed).toBe(true);
      // Every legitimate tunnel opened during the flood succeeded.
      expect(legit.ok).toBe(legit.tried);
      expect(legit.tried).toBeGreaterThan(0);
      expect(await plane.metrics.registry.metrics()).toMatch(
        /switchyard_hbone_stream_resets_total\{[^}]*reason="control-frame-flood"[^}]*\} 1/,
      );
      expect((await python(`${lab.b.v4}:${APP_PORT}`, 'tunnel')).status).toBe(200);
    });

    it('a peer whose certificate carries two SPIFFE IDs (the allowed one first) gets 401, and the app nothing', async () => {
      const twoIds = await issueCrafted(pki, 'two-ids', [
        'spiffe://cluster.local/ns/web/sa/peer',
        'spiffe://cluster.local/ns/admin/sa/root',
      ]);
      const { stdout } = await promisify(execFile)(
        'ip',
        [
          'netns',
          'exec',
          lab.a.name,
          PYTHON,
          CLIENT,
          lab.b.v4,
          '15008',
          twoIds,
          `${lab.b.v4}:${APP_PORT}`,
          'tunnel',
        ],
        { timeout: 30_000 },
      );
      expect(JSON.parse(stdout).status).toBe(401);
      expect(appSources).toEqual([]);
    });

    it('tunnels reset while their data is queued (zero window) free their app connections at once; the stream limit holds', async () => {
      const { result, legit } = await beside(python(`${lab.b.v4}:${APP_PORT}`, 'zero-window-reset', '150'));
      expect(result.ok).toBeLessThanOrEqual(100);
      expect(result.ok + result.refused).toBe(150);
      expect(legit.ok).toBe(legit.tried);
      expect(appSources.length).toBe(result.ok + legit.ok);
      // The python client has gone; every tunnel's app connection is closed within a second.
      expect(await waitFor(() => appSockets.every((s) => s.destroyed), 1_000)).toBe(true);
      // and the data plane has let go of them too (the native engine reports its closes in batches)
      expect(await waitFor(() => plane.workload('web/server')?.active.inbound === 0, 1_000)).toBe(true);
    });

    it('rapid reset: streams reset before their answer are counted, cost no app connections, and close the connection', async () => {
      const { result, legit } = await beside(python(`${lab.b.v4}:${APP_PORT}`, 'rapid-reset', '500'));
      expect(result.closed).toBe(true);
      expect(result.error_code).toBe(11); // ENHANCE_YOUR_CALM
      expect(legit.ok).toBe(legit.tried);
      // Of 500 reset streams, hardly any reached the app (the legitimate peer's tunnels aside).
      expect(appSockets.length - legit.ok).toBeLessThan(50);
      expect(await plane.metrics.registry.metrics()).toMatch(
        /switchyard_hbone_stream_resets_total\{[^}]*reason="rapid-reset-goaway"[^}]*\} 1/,
      );
      // The legitimate peer is still served.
      expect((await python(`${lab.b.v4}:${APP_PORT}`, 'tunnel')).status).toBe(200);
    });
  });
}
