import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { loopbackSocketOps } from '@switchyard/core/memory';
import { DataPlane, type IdentityFallback, type IdentityResolver, silentLogger } from '@switchyard/dataplane';
import { dialOutbound, LOCAL, readAll, startApp, type TestApp } from '@switchyard/dataplane/testing';
import { type AuthorizationPolicy, CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RELAY_CHANNELS } from '../diagnostics.js';
import { addOutboundClient } from '../test-support/outbound-client.js';
import { mtlsNativeCarrier } from './mtls-native-carrier.js';

const SERVER = 'spiffe://cluster.local/ns/suite/sa/pinned-server';

let pki: TestPki;
const open: (() => Promise<void>)[] = [];
beforeAll(async () => {
  pki = await createTestPki();
});
afterAll(() => pki.dispose());
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

/**
 * A server workload and a client workload on the native carrier, the client's data plane with
 * the given resolver and fallback (the carrier has none of its own). Returns what a plain client
 * of the outbound port got back, and the app behind the server.
 */
async function exchange(
  fallback: IdentityFallback,
  identities?: IdentityResolver,
  inboundAuthorization?: AuthorizationPolicy,
) {
  const app: TestApp = await startApp();
  open.push(() => app.close());
  const stores = await Promise.all(
    ['pinned-server', 'pinned-client'].map(async (name) =>
      CertificateStore.open(await pki.issue(name, 'suite'), { watch: false }),
    ),
  );
  const [serverId, clientId] = stores as [CertificateStore, CertificateStore];
  const plane = (identityFallback: IdentityFallback, resolver?: IdentityResolver) =>
    new DataPlane({
      socketOps: loopbackSocketOps(),
      identityFallback,
      ...(resolver ? { identities: resolver } : {}),
      logger: silentLogger,
      timeouts: { handshake: 2_000, drain: 1_000 },
    });
  const server = plane('trust-domain');
  const client = plane(fallback, identities);
  open.push(async () => {
    await Promise.all([client.close(0), server.close(0)]);
    for (const s of stores) s.close();
  });
  const served = await server.addWorkload({
    id: 'server',
    identity: serverId,
    carrier: mtlsNativeCarrier(),
    policy: {
      inbound: {
        port: 0,
        host: LOCAL,
        fixedDestination: { address: LOCAL, port: app.port },
        ...(inboundAuthorization ? { authorization: inboundAuthorization } : {}),
      },
    },
  });
  const inbound = served.listeners.find((l) => l.role === 'inbound')?.port ?? 0;
  const outbound = await addOutboundClient(client, clientId, app.port, inbound);
  // how the engines decided: the client's handshake (the server's ID), the server's (the client's)
  const verdicts: string[] = [];
  const inboundVerdicts: string[] = [];
  const hear = (message: unknown) => {
    for (const h of (message as { handshakes: { spiffeId: string; admitted?: string }[] }).handshakes)
      (h.spiffeId === SERVER ? verdicts : inboundVerdicts).push(h.admitted ?? 'asked JavaScript');
  };
  subscribe(RELAY_CHANNELS.handshakes.name, hear);
  const s = dialOutbound(outbound);
  s.write('HELLO');
  s.end();
  const got = await readAll(s);
  unsubscribe(RELAY_CHANNELS.handshakes.name, hear);
  return {
    got,
    app,
    verdicts,
    inboundVerdicts,
    metrics: await client.metrics.registry.metrics(),
    serverMetrics: await server.metrics.registry.metrics(),
  };
}

describe("mtls-native checks a server's identity with the data plane's resolver and fallback", () => {
  it('refuses a server whose identity nobody named when the data plane says refuse', async () => {
    const { got, app, verdicts, metrics } = await exchange('refuse');
    expect(got.bytes).toBe(0);
    expect(app.received()).toBe(0);
    expect(verdicts).toEqual(['refused']); // on the engine thread, from the admission table
    expect(metrics).toMatch(/switchyard_connections_total\{[^}]*direction="outbound",outcome="denied"\} 1/);
  });

  it('carries to a server that presents the identity the resolver pins', async () => {
    const pinned: IdentityResolver = { expected: (a) => (a === LOCAL ? [SERVER] : undefined) };
    const { got, app, verdicts, inboundVerdicts } = await exchange('refuse', pinned);
    expect(got.bytes).toBe(5); // the app echoes
    expect(app.received()).toBe(5);
    expect(verdicts).toEqual(['accepted']); // relayed without asking JavaScript
    expect(inboundVerdicts).toEqual(['asked JavaScript']); // admitted: the data plane dials the app
  });

  it('refuses a server that presents another identity than the pinned one', async () => {
    const other: IdentityResolver = {
      expected: () => ['spiffe://cluster.local/ns/suite/sa/someone-else'],
    };
    const { got, app, verdicts, metrics } = await exchange('trust-domain', other);
    expect(got.bytes).toBe(0);
    expect(app.received()).toBe(0);
    expect(verdicts).toEqual(['refused']);
    expect(metrics).toMatch(/switchyard_connections_total\{[^}]*direction="outbound",outcome="denied"\} 1/);
  });

  it("refuses on the server's engine a client the workload's inbound authorization does not allow, and the data plane still counts it", async () => {
    const pinned: IdentityResolver = { expected: () => [SERVER] };
    const { got, app, inboundVerdicts, serverMetrics } = await exchange('refuse', pinned, {
      allow: [{ namespace: 'elsewhere' }],
    });
    expect(got.bytes).toBe(0);
    expect(app.received()).toBe(0);
    expect(inboundVerdicts).toEqual(['refused']);
    expect(serverMetrics).toMatch(
      /switchyard_connections_total\{[^}]*direction="inbound",outcome="denied"\} 1/,
    );
  });
});
