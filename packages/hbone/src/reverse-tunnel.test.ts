import { createServer, type Server } from 'node:net';
import { loopbackSocketOps } from '@switchyard/core/memory';
import { CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HboneSidecar } from './hbone-sidecar.js';
import { ReverseTunnelAcceptor, ReverseTunnelDialer } from './reverse-tunnel.js';

const LOCAL = '127.0.0.1';
let pki: TestPki;
let dirs: { gateway: string; workload: string; foreignGateway: string };
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  pki = await createTestPki();
  const issue = (name: string, ns: string) => pki.issue(name, ns);
  dirs = {
    gateway: await issue('gateway', 'web'),
    workload: await issue('natted', 'web'),
    foreignGateway: await issue('foreign-gateway', 'elsewhere'),
  };
});
afterAll(() => pki.dispose());
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(check: () => boolean, ms = 3000): Promise<void> {
  for (const end = Date.now() + ms; !check() && Date.now() < end; )
    await new Promise((r) => setTimeout(r, 20));
}

async function setup(gatewayDir: string) {
  const echo: Server = createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, LOCAL, r));
  cleanups.push(() => new Promise((r) => echo.close(r)));
  const acceptor = new ReverseTunnelAcceptor({
    socketOps: loopbackSocketOps(),
    certificates: await CertificateStore.open(gatewayDir, { watch: false }),
    port: 0,
    host: LOCAL,
  });
  await acceptor.start();
  cleanups.push(() => acceptor.close());
  // The NATed workload: its HBONE server listens nowhere; it only serves what comes back over its own dial.
  const certificates = await CertificateStore.open(dirs.workload, { watch: false });
  const workload = new HboneSidecar({ socketOps: loopbackSocketOps(), certificates });
  await workload.start();
  cleanups.push(() => workload.close());
  const dialer = new ReverseTunnelDialer({
    socketOps: loopbackSocketOps(),
    certificates,
    server: workload.server!,
    gateway: { address: LOCAL, port: acceptor.port },
    authorization: { allow: [{ trustDomain: 'cluster.local' }] },
  });
  await dialer.start();
  cleanups.push(() => dialer.stop());
  await until(() => acceptor.registered.length > 0);
  return { acceptor, dialer, echoPort: (echo.address() as { port: number }).port };
}

describe('reverse tunnels (H2R)', () => {
  it('a workload that cannot be dialled holds a connection out, and the gateway tunnels to it over that connection', async () => {
    const { acceptor, echoPort } = await setup(dirs.gateway);
    expect(acceptor.registered).toEqual(['spiffe://cluster.local/ns/web/sa/natted']);
    const tunnel = await acceptor.open('spiffe://cluster.local/ns/web/sa/natted', {
      address: LOCAL,
      port: echoPort,
    });
    const echoed = new Promise<string>((resolve) => {
      let text = '';
      tunnel.on('data', (d: Buffer) => {
        text += d.toString();
      });
      tunnel.once('end', () => resolve(text));
    });
    tunnel.end('back through the reverse tunnel');
    expect(await echoed).toBe('back through the reverse tunnel');
    await expect(
      acceptor.open('spiffe://cluster.local/ns/web/sa/nobody', { address: LOCAL, port: echoPort }),
    ).rejects.toMatchObject({ status: 503 });
  });

  it('the workload still authorizes what arrives: a gateway of another namespace gets 401', async () => {
    const { acceptor, echoPort } = await setup(dirs.foreignGateway);
    await expect(
      acceptor.open('spiffe://cluster.local/ns/web/sa/natted', { address: LOCAL, port: echoPort }),
    ).rejects.toMatchObject({ status: 401 });
  });

  it('forgets a workload whose connection is gone', async () => {
    const { acceptor, dialer } = await setup(dirs.gateway);
    dialer.stop();
    await until(() => acceptor.registered.length === 0);
    expect(acceptor.registered).toEqual([]);
  });

  it('redials with backoff until the gateway is back, however many dials fail meanwhile', async () => {
    const certificates = await CertificateStore.open(dirs.gateway, { watch: false });
    const first = new ReverseTunnelAcceptor({
      socketOps: loopbackSocketOps(),
      certificates,
      port: 0,
      host: LOCAL,
    });
    await first.start();
    const port = first.port;
    const workload = new HboneSidecar({
      socketOps: loopbackSocketOps(),
      certificates: await CertificateStore.open(dirs.workload, { watch: false }),
    });
    await workload.start();
    cleanups.push(() => workload.close());
    const dialer = new ReverseTunnelDialer({
      socketOps: loopbackSocketOps(),
      certificates: await CertificateStore.open(dirs.workload, { watch: false }),
      server: workload.server!,
      gateway: { address: LOCAL, port },
      retryMs: 50,
      maxRetryMs: 200,
    });
    await dialer.start();
    cleanups.push(() => dialer.stop());
    await until(() => first.registered.length === 1);
    // The gateway goes away: several redials fail while it is down.
    await first.close();
    await new Promise((r) => setTimeout(r, 800));
    const second = new ReverseTunnelAcceptor({
      socketOps: loopbackSocketOps(),
      certificates,
      port,
      host: LOCAL,
    });
    await second.start();
    cleanups.push(() => second.close());
    await until(() => second.registered.length === 1, 3_000);
    expect(second.registered).toEqual(['spiffe://cluster.local/ns/web/sa/natted']);
  });
});
