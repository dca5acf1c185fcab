import { connect, createServer, type Server, type Socket } from 'node:net';
import type { RedirectionDriver } from '@switchyard/core';
import { loopbackSocketOps } from '@switchyard/core/memory';
import { DataPlane, silentLogger, startAdminServer } from '@switchyard/dataplane';
import { afterEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../config/validate-config.js';
import { forwardCarrier } from './forward-carrier.js';
import { MetadataProxy } from './metadata-proxy.js';
import type { RelayOutcome } from './metadata-status.js';

// Metadata proxying's relays are workloads of the data plane with the `forward` carrier, as
// MetadataProxy adds them: the data plane's connection limit and metrics reach them.

const LOCAL = '127.0.0.1';
const ENDPOINT = { address: '169.254.169.254', port: 80 };
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A stand-in metadata proxy container: it echoes. */
async function proxyContainer(): Promise<Server> {
  const server = createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, LOCAL, r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  return server;
}

async function metadataPlane(maxConnections: number, proxy: Server | undefined) {
  const plane = new DataPlane({
    socketOps: loopbackSocketOps(),
    identityFallback: 'refuse',
    logger: silentLogger,
    limits: { maxConnections },
  });
  cleanups.push(() => plane.close(0));
  const counts: RelayOutcome[] = [];
  const status = await plane.addWorkload({
    id: 'metadata/client-a',
    carrier: forwardCarrier({
      to: () =>
        proxy
          ? { address: LOCAL, port: (proxy.address() as { port: number }).port }
          : { refused: 'no metadata proxy container runs (fail closed)' },
      count: (outcome) => counts.push(outcome),
    }),
    // As MetadataProxy serves a client where the driver cannot tell the destination.
    policy: {
      outbound: {
        port: 0,
        host: LOCAL,
        meshCidrs: [`${ENDPOINT.address}/32`],
        resolveServices: false,
        fixedDestination: ENDPOINT,
      },
    },
  });
  const admin = await startAdminServer(plane, { port: 0, host: LOCAL });
  cleanups.push(() => admin.close());
  const port = status.listeners[0]?.port ?? 0;
  const dial = () => {
    const s = connect(port, LOCAL);
    s.on('error', () => undefined);
    cleanups.push(() => s.destroy());
    return s;
  };
  const metrics = async () => (await fetch(`http://${LOCAL}:${admin.port}/metrics`)).text();
  return { plane, status, counts, dial, metrics };
}

const echo = (s: Socket, text: string) =>
  new Promise<string>((resolve) => {
    s.once('data', (d: Buffer) => resolve(d.toString()));
    s.write(text);
  });
const closed = (s: Socket) => new Promise((r) => (s.destroyed ? r(undefined) : s.once('close', r)));

describe('metadata relays as data plane workloads (the forward carrier)', () => {
  it('serve without an identity, relay to the proxy, and count in the data plane series on /metrics', async () => {
    const { status, counts, dial, metrics } = await metadataPlane(10, await proxyContainer());
    expect(status.spiffeId).toBeUndefined();
    const s = dial();
    expect(await echo(s, 'GET /metadata/instance')).toBe('GET /metadata/instance');
    expect(await metrics()).toMatch(
      /switchyard_connections_active\{workload="metadata\/client-a",carrier="forward",direction="outbound"\} 1/,
    );
    s.end();
    await closed(s);
    await expect
      .poll(metrics)
      .toMatch(
        /switchyard_connections_total\{workload="metadata\/client-a",carrier="forward",direction="outbound",outcome="spliced"\} 1/,
      );
    expect(counts).toEqual(['relayed']);
  });

  it('are held to the connection limit: a connection over it is refused and counted', async () => {
    const { counts, dial, metrics } = await metadataPlane(1, await proxyContainer());
    const first = dial();
    expect(await echo(first, 'one')).toBe('one');
    const second = dial();
    await closed(second);
    expect(await metrics()).toMatch(
      /switchyard_refusals_total\{workload="metadata\/client-a",carrier="forward",direction="outbound",reason="limit"\} 1/,
    );
    expect(await echo(first, 'still served')).toBe('still served');
    expect(counts).toEqual(['relayed']);
  });

  it('fail closed with no proxy: the client is reset, and the refusal counted both ways', async () => {
    const { counts, dial, metrics } = await metadataPlane(10, undefined);
    const s = dial();
    s.write('GET /metadata/instance');
    await closed(s);
    expect(counts).toEqual(['refused']);
    expect(await metrics()).toMatch(
      /switchyard_refusals_total\{workload="metadata\/client-a",carrier="forward",direction="outbound",reason="no-proxy"\} 1/,
    );
  });

  it('drain with the data plane: an open relay is reset at the deadline', async () => {
    const { plane, dial, metrics } = await metadataPlane(10, await proxyContainer());
    const s = dial();
    expect(await echo(s, 'held open')).toBe('held open');
    await plane.removeWorkload('metadata/client-a', 50);
    await closed(s);
    expect(await metrics()).toMatch(
      /switchyard_drain_resets_total\{workload="metadata\/client-a",carrier="forward"\} [1-9]/,
    );
  });
});

describe('metadata proxying: keeping the caller needs what the platform has', () => {
  it('source on a driver without network namespaces (Windows) is refused at start, with the choices', async () => {
    const config = validateConfig(
      { identity: { caDir: '/ca' }, metadataProxy: { caller: 'source' } },
      '/etc',
    );
    await expect(
      MetadataProxy.start({
        config: config.metadataProxy!,
        bypass: config.bypass,
        driver: { name: 'hns', targetKinds: ['hns-endpoint'] } as unknown as RedirectionDriver,
        logger: silentLogger,
        retry: { initialMs: 50, maxMs: 200 },
        resyncMs: 60_000,
      }),
    ).rejects.toMatchObject({
      code: 'SWY_ERR_POLICY_UNSUPPORTED',
      message: expect.stringContaining('use "proxy-v2" or "agent"'),
    });
  });
});
