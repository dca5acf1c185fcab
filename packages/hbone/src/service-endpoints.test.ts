import { connect, createServer, type Server, type Socket } from 'node:net';
import { loopbackSocketOps } from '@switchyard/core/memory';
import { DataPlane, type ServiceEndpoint, silentLogger } from '@switchyard/dataplane';
import { LOCAL } from '@switchyard/dataplane/testing';
import { CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hboneCarrier } from './hbone-carrier.js';
import { startTestServer, type TestServer } from './test-server.js';

const VIP = { address: '10.96.0.10', port: 80 };
/** The endpoint that serves HBONE on its 15008, and one where nothing listens. */
const GOOD = '127.0.0.5';
const BAD = '127.0.0.6';
const CONNECTIONS = 12;

describe('HBONE to a Service with a dead endpoint beside a live one', () => {
  let pki: TestPki;
  let app: Server;
  let appPort: number;
  let sidecar: TestServer;
  let identity: CertificateStore;
  beforeAll(async () => {
    pki = await createTestPki();
    // The sidecar resets what it still carries when it closes: the echo's sockets listen for that.
    app = createServer((s) => s.on('error', () => undefined).pipe(s)).listen(0, GOOD);
    await new Promise((resolve) => app.once('listening', resolve));
    appPort = (app.address() as { port: number }).port;
    sidecar = await startTestServer(
      await CertificateStore.open(await pki.issue('api', 'web'), { watch: false }),
      { host: GOOD, hbonePort: 15008, addresses: [GOOD] },
    );
    identity = await CertificateStore.open(await pki.issue('client', 'web'), { watch: false });
  });
  afterAll(async () => {
    identity.close();
    await sidecar.close();
    await new Promise((resolve) => app.close(resolve));
    await pki.dispose();
  });

  it('the dead one is tried first at most about half the time while the live one holds connections', async () => {
    const at = (address: string): ServiceEndpoint => ({
      address,
      port: appPort,
      identities: ['spiffe://cluster.local/ns/web/sa/api'],
      state: 'mesh',
    });
    const plane = new DataPlane({
      socketOps: loopbackSocketOps(),
      identityFallback: 'trust-domain',
      logger: silentLogger,
      destinations: {
        resolve: (d) =>
          d.address === VIP.address
            ? { kind: 'service', service: 'web/api', endpoints: [at(BAD), at(GOOD)] }
            : undefined,
      },
    });
    const open: Socket[] = [];
    try {
      const status = await plane.addWorkload({
        id: 'client',
        identity,
        carrier: hboneCarrier(),
        policy: { ports: {}, outbound: { port: 0, host: LOCAL, fixedDestination: VIP } },
      });
      for (let n = 0; n < CONNECTIONS; n++) {
        // Each connection stays open (it holds the live endpoint) once it has echoed.
        const socket = connect(status.listeners[0]?.port ?? 0, LOCAL);
        socket.on('error', () => undefined);
        open.push(socket);
        const echoed = new Promise<string>((resolve) => socket.once('data', (d) => resolve(String(d))));
        socket.write('ping');
        expect(await echoed).toBe('ping');
      }
      const metrics = await plane.metrics.registry.metrics();
      const retries = Number(
        /switchyard_service_endpoint_retries_total\{service="web\/api"\} (\d+)/.exec(metrics)?.[1] ?? 0,
      );
      expect(retries).toBeLessThanOrEqual(CONNECTIONS / 2);
    } finally {
      for (const s of open) s.destroy();
      await plane.close(0);
    }
  });

  it('a client gone during the first attempt: no retry on the fallback', async () => {
    // Two endpoints that take the TCP connection and never start TLS.
    const silent: Socket[] = [];
    const blackholes = await Promise.all(
      ['127.0.0.7', '127.0.0.8'].map(async (address) => {
        const server = createServer((s) => void silent.push(s)).listen(15008, address);
        await new Promise((resolve) => server.once('listening', resolve));
        return server;
      }),
    );
    const plane = new DataPlane({
      socketOps: loopbackSocketOps(),
      identityFallback: 'trust-domain',
      logger: silentLogger,
      timeouts: { handshake: 300 },
      destinations: {
        resolve: () => ({
          kind: 'service',
          service: 'web/api',
          endpoints: ['127.0.0.7', '127.0.0.8'].map((address) => ({
            address,
            port: 8080,
            identities: ['spiffe://cluster.local/ns/web/sa/api'],
            state: 'mesh' as const,
          })),
        }),
      },
    });
    try {
      const status = await plane.addWorkload({
        id: 'client',
        identity,
        carrier: hboneCarrier(),
        policy: { ports: {}, outbound: { port: 0, host: LOCAL, fixedDestination: VIP } },
      });
      const socket = connect(status.listeners[0]?.port ?? 0, LOCAL);
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('connect', resolve));
      await new Promise((resolve) => setTimeout(resolve, 50));
      // A reset: the proxy's side of the connection is destroyed at once.
      socket.resetAndDestroy();
      // The first attempt's handshake times out after 300 ms; a retry would be counted then.
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(silent).toHaveLength(1);
      expect(await plane.metrics.registry.metrics()).not.toMatch(
        /switchyard_service_endpoint_retries_total\{service="web\/api"\} [1-9]/,
      );
    } finally {
      await plane.close(0);
      for (const s of silent) s.destroy();
      await Promise.all(blackholes.map((b) => new Promise((resolve) => b.close(resolve))));
    }
  });
});
