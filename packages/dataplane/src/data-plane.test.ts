import { connect, createServer, type Server } from 'node:net';
import { loopbackSocketOps } from '@switchyard/core/memory';
import { CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminServer } from './admin-server.js';
import type { CarrierFactory } from './carrier.js';
import { DataPlane } from './data-plane.js';
import { DEFAULT_ACCESS_LOG_RATE } from './defaults.js';
import { jsonLogger, silentLogger } from './logger.js';

// A carrier that refuses everything: these tests are about the data plane around it.
const refuser: CarrierFactory = {
  name: 'refuser',
  create: () => ({
    outbound: async (c) => void c.socket.destroy(),
    inbound: async (c) => void c.socket.destroy(),
    drain() {},
    close: async () => {},
  }),
};

describe('DataPlane', () => {
  let pki: TestPki;
  let identity: CertificateStore;
  beforeAll(async () => {
    pki = await createTestPki();
    identity = await CertificateStore.open(await pki.issue('w', 'web'), { watch: false });
  });
  afterAll(async () => {
    identity.close();
    await pki.dispose();
  });
  const plane = () =>
    new DataPlane({ socketOps: loopbackSocketOps(), identityFallback: 'trust-domain', logger: silentLogger });
  const spec = (id: string, port: number) => ({
    id,
    identity,
    carrier: refuser,
    policy: { outbound: { port, host: '127.0.0.1', meshCidrs: ['10.0.0.0/8'] } },
  });

  it('refuses to start without an identity resolver unless the weaker fallback is chosen', () => {
    expect(() => new DataPlane({ socketOps: loopbackSocketOps() })).toThrow(
      /identityFallback: "trust-domain"/,
    );
  });

  it('a workload whose port is taken fails alone: reported, the others keep serving', async () => {
    const p = plane();
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as { port: number }).port;
    const good = await p.addWorkload(spec('good', 0));
    await expect(p.addWorkload(spec('bad', taken))).rejects.toMatchObject({
      code: 'SWY_ERR_WORKLOAD_FAILED',
    });
    expect(p.workload('bad')).toMatchObject({ state: 'failed', error: expect.stringMatching(/EADDRINUSE/) });
    expect(p.workload('good')?.state).toBe('serving');
    const port = good.listeners[0]?.port ?? 0;
    await new Promise<void>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve();
      });
      s.on('error', reject);
    });
    expect(await p.metrics.registry.metrics()).toMatch(/switchyard_workloads\{state="failed"\} 1/);
    await p.close(0);
    await new Promise((r) => blocker.close(r));
  });

  it('refuses a malformed or duplicate workload before opening anything', async () => {
    const p = plane();
    await expect(p.addWorkload({ ...spec('', 70000) })).rejects.toThrow(
      /id: a non-empty string.*70000 is not a port/,
    );
    await p.addWorkload(spec('one', 0));
    await expect(p.addWorkload(spec('one', 0))).rejects.toMatchObject({ code: 'SWY_ERR_WORKLOAD_INVALID' });
    expect(p.workloads()).toHaveLength(1);
    await p.close(0);
  });

  it('removing a workload closes its listeners; its port is free again', async () => {
    const p = plane();
    const status = await p.addWorkload(spec('w', 0));
    const port = status.listeners[0]?.port ?? 0;
    await p.removeWorkload('w');
    expect(p.workloads()).toEqual([]);
    const refused = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1', () => resolve('connected'));
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
    await p.close(0);
  });

  it('a successor under the same id serves at once while its predecessor drains', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    // A carrier whose own listener holds each connection until its client goes.
    const holder: CarrierFactory = {
      name: 'holder',
      create: () => ({
        listeners: [{ name: 'hold', port, host: '127.0.0.1', families: ['ipv4'], accept() {} }],
        outbound: async (c) => void c.socket.destroy(),
        inbound: async (c) => void c.socket.destroy(),
        drain() {},
        close: async () => {},
      }),
    };
    const p = plane();
    const held = { ...spec('w', 0), carrier: holder };
    await p.addWorkload(held);
    const open = (): Promise<ReturnType<typeof connect>> =>
      new Promise((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => resolve(s));
        s.once('error', reject);
      });
    const old = await open();
    await expect.poll(() => p.workload('w')?.active.inbound).toBe(1);
    let drained = false;
    const removing = p.removeWorkload('w', 10_000).then(() => {
      drained = true;
    });
    // Served again on the same port at once, not after the drain.
    expect((await p.addWorkload(held)).state).toBe('serving');
    const fresh = await open();
    await expect.poll(() => p.workload('w')?.active.inbound).toBe(1);
    expect(drained).toBe(false);
    expect(old.destroyed).toBe(false);
    old.destroy();
    await removing;
    expect(p.workload('w')?.state).toBe('serving');
    fresh.destroy();
    await p.close(0);
  });

  it('serves /metrics, /healthz, /readyz and /status on loopback by default', async () => {
    const p = plane();
    const admin = await startAdminServer(p, { port: 0 });
    expect((await fetch(`http://127.0.0.1:${admin.port}/readyz`)).status).toBe(503);
    await p.addWorkload(spec('w', 0));
    expect((await fetch(`http://127.0.0.1:${admin.port}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${admin.port}/healthz`)).status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${admin.port}/metrics`)).text()).toMatch(
      /switchyard_workloads/,
    );
    await p.close(0);
    expect((await fetch(`http://127.0.0.1:${admin.port}/readyz`)).status).toBe(503);
    await admin.close();
  });

  it('a flood of refused connections is counted in full but logged at a bounded rate', async () => {
    const lines: string[] = [];
    const p = new DataPlane({
      socketOps: loopbackSocketOps(),
      identityFallback: 'trust-domain',
      logger: jsonLogger({ level: 'debug', write: (line) => lines.push(line) }),
    });
    // Each connection reaches the proxy port itself on loopback: a loop, refused.
    const status = await p.addWorkload(spec('w', 0));
    const port = status.listeners[0]?.port ?? 0;
    const before = lines.length;
    await Promise.all(
      Array.from(
        { length: 300 },
        () =>
          new Promise<void>((resolve) => {
            const s = connect(port, '127.0.0.1');
            s.on('error', () => resolve());
            s.on('close', () => resolve());
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(await p.metrics.registry.metrics()).toMatch(/switchyard_refusals_total\{[^}]*reason="loop"\} 300/);
    const connectionLines = lines.slice(before).filter((l) => l.includes('"msg":"connection"'));
    expect(connectionLines.length).toBeGreaterThan(0);
    expect(connectionLines.length).toBeLessThanOrEqual(DEFAULT_ACCESS_LOG_RATE * 2);
    await p.close(0);
  });
});
