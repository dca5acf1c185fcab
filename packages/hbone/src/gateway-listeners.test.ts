import { createServer as createTlsServer, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { loopbackSocketOps } from '@switchyard/core/memory';
import { startAdminServer } from '@switchyard/dataplane';
import { CertificateStore, loadCertificateDir } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HboneSidecar } from './hbone-sidecar.js';
import { ReverseTunnelDialer } from './reverse-tunnel.js';
import { startTestServer } from './test-server.js';

// The SNI gateway and the reverse-tunnel acceptor are listeners of the one data plane: its
// connection limit, certificate rotation and metrics reach them as they reach 15008.

const LOCAL = '127.0.0.1';
let pki: TestPki;
const cleanups: (() => unknown)[] = [];
beforeAll(async () => {
  pki = await createTestPki();
});
afterAll(() => pki.dispose());
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(check: () => boolean | Promise<boolean>, ms = 3000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20)))
    if (await check()) return true;
  return false;
}

/** A TLS echo app behind an HBONE server, and a gateway sidecar that routes `app.example` to it. */
async function sniSetup(limits: { maxConnections?: number } = {}) {
  const appCert = await loadCertificateDir(await pki.issue('sni-app', 'web'));
  const app = createTlsServer({ cert: appCert.chain, key: appCert.key }, (s) => s.pipe(s));
  await new Promise<void>((r) => app.listen(0, LOCAL, r));
  cleanups.push(() => new Promise((r) => app.close(r)));
  const server = await startTestServer(
    await CertificateStore.open(await pki.issue('sni-server', 'web'), { watch: false }),
  );
  cleanups.push(() => server.close());
  const certificates = await CertificateStore.open(await pki.issue('sni-gateway', 'web'), { watch: false });
  const gateway = new HboneSidecar({
    socketOps: loopbackSocketOps(),
    certificates,
    host: LOCAL,
    log: () => undefined,
    ...limits,
    sniGateway: {
      port: 0,
      route: (name) =>
        name === 'app.example'
          ? {
              peer: { address: LOCAL, port: server.port },
              destination: { address: LOCAL, port: (app.address() as { port: number }).port },
            }
          : undefined,
    },
  });
  await gateway.start();
  cleanups.push(() => gateway.close());
  const admin = await startAdminServer(gateway, { port: 0, host: LOCAL });
  cleanups.push(() => admin.close());
  const metrics = async () => (await fetch(`http://${LOCAL}:${admin.port}/metrics`)).text();
  const session = () => {
    const s = tlsConnect({
      port: gateway.port('sni-gateway'),
      host: LOCAL,
      servername: 'app.example',
      ca: appCert.bundle,
      checkServerIdentity: () => undefined,
    });
    s.on('error', () => undefined);
    return s;
  };
  return { gateway, certificates, metrics, session, rotate: () => pki.issue('sni-gateway', 'web') };
}

const echo = (s: TLSSocket, text: string) =>
  new Promise<string>((resolve) => {
    s.once('data', (d: Buffer) => resolve(d.toString()));
    s.write(text);
  });

describe('the SNI gateway, a listener of the data plane', () => {
  it('counts its sessions in the data plane series served on /metrics', async () => {
    const { session, metrics } = await sniSetup();
    const s = session();
    await new Promise((r) => s.once('secureConnect', r));
    expect(await echo(s, 'through the gateway')).toBe('through the gateway');
    expect(await metrics()).toMatch(
      /switchyard_connections_active\{workload="sidecar",carrier="hbone",direction="inbound"\} 1/,
    );
    s.destroy();
    expect(
      await until(async () =>
        /switchyard_connections_total\{workload="sidecar",carrier="hbone",direction="inbound",outcome="spliced"\} 1/.test(
          await metrics(),
        ),
      ),
    ).toBe(true);
  });

  it('is held to the connection limit: a session over it is refused and counted', async () => {
    const { session, metrics } = await sniSetup({ maxConnections: 1 });
    const first = session();
    await new Promise((r) => first.once('secureConnect', r));
    const second = session();
    await new Promise((r) => second.once('close', r));
    expect(second.authorized).toBe(false);
    expect(await metrics()).toMatch(
      /switchyard_refusals_total\{workload="sidecar",carrier="hbone",direction="inbound",reason="limit"\} 1/,
    );
    expect(await echo(first, 'still served')).toBe('still served');
    first.destroy();
  });

  it('keeps an open session across a rotation of its certificate, and serves new ones after it', async () => {
    const { session, certificates, rotate } = await sniSetup();
    const before = certificates.current.serialNumber;
    const s = session();
    await new Promise((r) => s.once('secureConnect', r));
    expect(await echo(s, 'before')).toBe('before');
    await rotate();
    await certificates.reload();
    expect(certificates.current.serialNumber).not.toBe(before);
    expect(await echo(s, 'after')).toBe('after');
    const fresh = session();
    await new Promise((r) => fresh.once('secureConnect', r));
    expect(await echo(fresh, 'new session')).toBe('new session');
    s.destroy();
    fresh.destroy();
  });
});

/** A gateway sidecar accepting reverse tunnels, and a NATed workload that dials it. */
async function reverseSetup(limits: { maxConnections?: number } = {}) {
  const gatewayCerts = await CertificateStore.open(await pki.issue('rt-gateway', 'web'), { watch: false });
  const gateway = new HboneSidecar({
    socketOps: loopbackSocketOps(),
    certificates: gatewayCerts,
    host: LOCAL,
    log: () => undefined,
    ...limits,
    reverseTunnel: { port: 0 },
  });
  await gateway.start();
  cleanups.push(() => gateway.close());
  const admin = await startAdminServer(gateway, { port: 0, host: LOCAL });
  cleanups.push(() => admin.close());
  const dial = async (name: string) => {
    const certificates = await CertificateStore.open(await pki.issue(name, 'web'), { watch: false });
    const workload = new HboneSidecar({ socketOps: loopbackSocketOps(), certificates, log: () => undefined });
    await workload.start();
    cleanups.push(() => workload.close());
    const dialer = new ReverseTunnelDialer({
      socketOps: loopbackSocketOps(),
      certificates,
      server: workload.server!,
      gateway: { address: LOCAL, port: gateway.port('reverse-tunnel') },
      retryMs: 60_000,
    });
    cleanups.push(() => dialer.stop());
    await dialer.start();
    return dialer;
  };
  const metrics = async () => (await fetch(`http://${LOCAL}:${admin.port}/metrics`)).text();
  return { gateway, gatewayCerts, dial, metrics };
}

/** The serial number of the certificate the acceptor presents to a new connection. */
async function presented(port: number, clientDir: string): Promise<string> {
  const cert = await loadCertificateDir(clientDir);
  const s = tlsConnect({
    port,
    host: LOCAL,
    cert: cert.chain,
    key: cert.key,
    ca: cert.bundle,
    ALPNProtocols: ['h2'],
    checkServerIdentity: () => undefined,
  });
  s.on('error', () => undefined);
  await new Promise((r) => s.once('secureConnect', r));
  const serial = s.getPeerCertificate().serialNumber;
  s.destroy();
  return serial;
}

describe('the reverse-tunnel acceptor, a listener of the data plane', () => {
  it('counts its reverse connections in the data plane series served on /metrics', async () => {
    const { gateway, dial, metrics } = await reverseSetup();
    await dial('rt-natted');
    expect(await until(() => (gateway.reverseTunnels?.registered.length ?? 0) === 1)).toBe(true);
    expect(await metrics()).toMatch(
      /switchyard_connections_active\{workload="sidecar",carrier="hbone",direction="inbound"\} 1/,
    );
  });

  it('is held to the connection limit: a second workload over it is refused and counted', async () => {
    const { gateway, dial, metrics } = await reverseSetup({ maxConnections: 1 } as {
      maxConnections: number;
    });
    await dial('rt-first');
    expect(await until(() => (gateway.reverseTunnels?.registered.length ?? 0) === 1)).toBe(true);
    await dial('rt-second').catch(() => undefined);
    expect(
      await until(async () =>
        /switchyard_refusals_total\{workload="sidecar",carrier="hbone",direction="inbound",reason="limit"\} 1/.test(
          await metrics(),
        ),
      ),
    ).toBe(true);
    expect(gateway.reverseTunnels?.registered).toEqual(['spiffe://cluster.local/ns/web/sa/rt-first']);
  });

  it('follows a certificate rotation mid-run: new connections get the new certificate, registered ones stay', async () => {
    const { gateway, gatewayCerts, dial } = await reverseSetup();
    await dial('rt-rotating');
    expect(await until(() => (gateway.reverseTunnels?.registered.length ?? 0) === 1)).toBe(true);
    const clientDir = await pki.issue('rt-probe', 'web');
    const port = gateway.port('reverse-tunnel');
    expect(await presented(port, clientDir)).toBe(gatewayCerts.current.serialNumber);
    const before = gatewayCerts.current.serialNumber;
    await pki.issue('rt-gateway', 'web');
    await gatewayCerts.reload();
    expect(gatewayCerts.current.serialNumber).not.toBe(before);
    expect(await presented(port, clientDir)).toBe(gatewayCerts.current.serialNumber);
    expect(gateway.reverseTunnels?.registered).toEqual(['spiffe://cluster.local/ns/web/sa/rt-rotating']);
  });
});
