import { connect, createServer, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { loopbackSocketOps } from '@switchyard/core/memory';
import { CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CarrierFactory } from './carrier.js';
import { DataPlane } from './data-plane.js';
import type { Endpoint } from './decide.js';
import type { DestinationResolver, ServiceEndpoint, ServiceRoute } from './destination-resolver.js';
import { silentLogger } from './logger.js';

const VIP = { address: '10.96.0.10', port: 80 };
const ep = (address: string, inMesh = true): ServiceEndpoint => ({
  address,
  port: 8080,
  identities: inMesh ? [`spiffe://cluster.local/ns/web/sa/${address}`] : [],
  state: inMesh ? 'mesh' : 'plain',
});

/** A carrier that records what the data plane hands it, then closes the connection. */
function recorder(routesServices: boolean) {
  const calls: { destination: Endpoint; route?: ServiceRoute }[] = [];
  const factory: CarrierFactory = {
    name: 'recorder',
    create: () => ({
      routesServices,
      outbound: async (c, destination, route) => {
        calls.push({ destination, ...(route ? { route } : {}) });
        c.socket.destroy();
      },
      drain() {},
      close: async () => {},
    }),
  };
  return { calls, factory };
}

describe('a captured connection to a Service address', () => {
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

  /** One connection through a workload whose every outbound connection is "to" `to`; returns what the carrier saw and the metrics. */
  async function through(
    resolver: DestinationResolver,
    routesServices: boolean,
    to: Endpoint = VIP,
    passthroughOutsideMesh = false,
  ) {
    const { calls, factory } = recorder(routesServices);
    const plane = new DataPlane({
      socketOps: loopbackSocketOps(),
      identityFallback: 'trust-domain',
      logger: silentLogger,
      destinations: resolver,
    });
    const status = await plane.addWorkload({
      id: 'client',
      identity,
      carrier: factory,
      policy: {
        outbound: {
          port: 0,
          host: '127.0.0.1',
          meshCidrs: ['10.1.0.0/16'],
          fixedDestination: to,
          passthroughOutsideMesh,
        },
      },
    });
    const socket = connect(status.listeners[0]?.port ?? 0, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('close', resolve));
    const metrics = await plane.metrics.registry.metrics();
    await plane.close(0);
    return { calls, metrics };
  }
  const service = (...endpoints: ServiceEndpoint[]): DestinationResolver => ({
    resolve: (d) =>
      d.address === VIP.address && d.port === VIP.port
        ? { kind: 'service', service: 'web/api', endpoints }
        : undefined,
  });

  it('a carrier that routes services gets the route: the chosen endpoint and one fallback, and the hooks', async () => {
    const { calls, metrics } = await through(service(ep('10.1.0.1'), ep('10.1.0.2'), ep('10.1.0.3')), true);
    expect(calls).toHaveLength(1);
    const route = calls[0]?.route as ServiceRoute;
    expect(calls[0]?.destination).toEqual(VIP);
    expect(route.service).toBe('web/api');
    expect(route.attempts).toHaveLength(2);
    expect(new Set(route.attempts.map((e) => e.address)).size).toBe(2);
    expect(metrics).toMatch(/switchyard_service_requests_total\{service="web\/api"\} 1/);
  });

  it('a carrier that does not gets the chosen endpoint itself as the destination', async () => {
    const { calls } = await through(service(ep('10.1.0.1')), false);
    expect(calls).toEqual([{ destination: { address: '10.1.0.1', port: 8080 } }]);
  });

  it.each([
    ['no ready endpoint', service(), 'no-endpoints'],
    [
      'only endpoints outside the mesh, passthrough off',
      service(ep('10.1.0.9', false)),
      'endpoint-outside-mesh',
    ],
  ])('%s: refused before the carrier, counted for the service', async (_name, resolver, reason) => {
    const { calls, metrics } = await through(resolver, true);
    expect(calls).toHaveLength(0);
    expect(metrics).toMatch(
      new RegExp(`switchyard_service_failures_total\\{service="web/api",reason="${reason}"\\} 1`),
    );
    expect(metrics).toMatch(new RegExp(`switchyard_refusals_total\\{[^}]*reason="${reason}"\\} 1`));
  });

  it('an unverified endpoint (no known pod owns it) is refused even with passthrough on, counted', async () => {
    const stale: ServiceEndpoint = { address: '10.9.0.1', port: 8080, identities: [], state: 'unverified' };
    const { calls, metrics } = await through(service(stale), true, VIP, true);
    expect(calls).toHaveLength(0);
    expect(metrics).toMatch(
      /switchyard_service_failures_total\{service="web\/api",reason="endpoint-unverified"\} 1/,
    );
    expect(metrics).not.toMatch(/outcome="spliced"/);
  });

  it.each([
    [
      'a resolver that throws',
      () => {
        throw new Error('index corrupt');
      },
      'resolver-failed',
    ],
    ['a resolver not synced yet', () => ({ kind: 'not-synced' }) as const, 'services-not-synced'],
  ])(
    '%s: refused, even with passthrough on (never decided by address alone)',
    async (_name, resolve, reason) => {
      const { calls, metrics } = await through({ resolve }, true, VIP, true);
      expect(calls).toHaveLength(0);
      expect(metrics).toMatch(new RegExp(`switchyard_refusals_total\\{[^}]*reason="${reason}"\\} 1`));
      expect(metrics).not.toMatch(/outcome="spliced"/);
    },
  );

  it('an address that is not a Service goes on as before (a mesh address to the carrier, no route)', async () => {
    const { calls } = await through(service(ep('10.1.0.1')), true, { address: '10.1.0.7', port: 8080 });
    expect(calls).toEqual([{ destination: { address: '10.1.0.7', port: 8080 } }]);
  });

  it('an endpoint outside the mesh, with passthrough on: plain TCP to its address and target port, bytes both ways', async () => {
    const app = createServer((s) => s.pipe(s)).listen(0, '127.0.0.1');
    await new Promise((resolve) => app.once('listening', resolve));
    const appPort = (app.address() as { port: number }).port;
    const { calls, factory } = recorder(true);
    const plane = new DataPlane({
      socketOps: loopbackSocketOps(),
      identityFallback: 'trust-domain',
      logger: silentLogger,
      destinations: service({ address: '127.0.0.1', port: appPort, identities: [], state: 'plain' }),
    });
    try {
      const status = await plane.addWorkload({
        id: 'client',
        identity,
        carrier: factory,
        policy: {
          outbound: { port: 0, host: '127.0.0.1', passthroughOutsideMesh: true, fixedDestination: VIP },
        },
      });
      const socket: Socket = connect(status.listeners[0]?.port ?? 0, '127.0.0.1');
      const echoed = new Promise<string>((resolve) => socket.once('data', (d) => resolve(String(d))));
      socket.write('plain hello');
      expect(await echoed).toBe('plain hello');
      socket.end();
      await new Promise((resolve) => socket.once('close', resolve));
      expect(calls).toHaveLength(0);
      expect(await plane.metrics.registry.metrics()).toMatch(
        /switchyard_service_requests_total\{service="web\/api"\} 1/,
      );
    } finally {
      await plane.close(0);
      await new Promise((resolve) => app.close(resolve));
    }
  });

  it('a relay reset after the endpoint was reached is not a Service failure', async () => {
    const factory: CarrierFactory = {
      name: 'resetting',
      create: (context) => ({
        routesServices: true,
        outbound: async (c, _destination, route) => {
          const server = new PassThrough();
          setImmediate(() => server.destroy(new Error('peer reset')));
          await context.relay('outbound', c.socket, server, {
            source: c.client.address,
            ...(route ? { service: route.service } : {}),
          });
        },
        drain() {},
        close: async () => {},
      }),
    };
    const plane = new DataPlane({
      socketOps: loopbackSocketOps(),
      identityFallback: 'trust-domain',
      logger: silentLogger,
      destinations: service(ep('10.1.0.1')),
    });
    try {
      const status = await plane.addWorkload({
        id: 'client',
        identity,
        carrier: factory,
        policy: { outbound: { port: 0, host: '127.0.0.1', fixedDestination: VIP } },
      });
      const socket = connect(status.listeners[0]?.port ?? 0, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('close', resolve));
      const metrics = await plane.metrics.registry.metrics();
      expect(metrics).toMatch(/switchyard_connections_total\{[^}]*outcome="failed"\} 1/);
      expect(metrics).not.toMatch(/switchyard_service_failures_total\{/);
    } finally {
      await plane.close(0);
    }
  });
});
