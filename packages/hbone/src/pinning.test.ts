import { loopbackSocketOps } from '@switchyard/core/memory';
import { DataPlane, silentLogger, staticIdentities } from '@switchyard/dataplane';
import { dialOutbound, LOCAL, outboundVia, readAll, startApp } from '@switchyard/dataplane/testing';
import { CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hboneCarrier } from './hbone-carrier.js';
import { HboneClient } from './hbone-client.js';
import { startTestServer } from './test-server.js';

describe('the HBONE client pins the server identity it expects for a destination', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await createTestPki();
  });
  afterAll(() => pki.dispose());

  it('refuses a server of the same trust domain posing as another workload, and counts it; the expected one passes', async () => {
    const app = await startApp();
    const impostor = await startTestServer(
      await CertificateStore.open(await pki.issue('impostor', 'web'), { watch: false }),
    );
    const genuine = await startTestServer(
      await CertificateStore.open(await pki.issue('api', 'web'), { watch: false }),
    );
    const expected = 'spiffe://cluster.local/ns/web/sa/api';
    const plane = new DataPlane({
      socketOps: loopbackSocketOps(),
      // Both servers listen on 127.0.0.1: the resolver says who 127.0.0.1 must be.
      identities: staticIdentities({ [LOCAL]: [expected] }),
      logger: silentLogger,
    });
    const identity = await CertificateStore.open(await pki.issue('client', 'web'), { watch: false });
    const client = async (id: string, hbonePort: number) =>
      (
        await plane.addWorkload({
          id,
          identity,
          carrier: hboneCarrier(),
          policy: outboundVia(app.port, { address: LOCAL, port: hbonePort }),
        })
      ).listeners[0]?.port ?? 0;
    try {
      const toImpostor = dialOutbound(await client('to-impostor', impostor.port));
      toImpostor.write('SECRET');
      expect((await readAll(toImpostor)).bytes).toBe(0);
      expect(app.received()).toBe(0);
      expect(await plane.metrics.registry.metrics()).toMatch(
        /switchyard_authorization_denials_total\{workload="to-impostor",[^}]*reason="unexpected-identity"\} 1/,
      );
      const toGenuine = dialOutbound(await client('to-genuine', genuine.port));
      toGenuine.end('hello');
      expect((await readAll(toGenuine)).bytes).toBe(5);
    } finally {
      await plane.close(0);
      await impostor.close();
      await genuine.close();
      identity.close();
      await app.close();
    }
  });

  it('an empty identity list is its own pool key: it never rides a connection opened unpinned', async () => {
    const app = await startApp();
    const server = await startTestServer(
      await CertificateStore.open(await pki.issue('api', 'web'), { watch: false }),
    );
    const identity = await CertificateStore.open(await pki.issue('client', 'web'), { watch: false });
    const client = new HboneClient({
      socketOps: loopbackSocketOps(),
      identityFallback: 'trust-domain',
      certificates: identity,
    });
    const request = {
      destination: { address: LOCAL, port: app.port },
      peer: { address: LOCAL, port: server.port },
    };
    try {
      const unpinned = await client.connect(request);
      await expect(client.connect({ ...request, identities: [] })).rejects.toThrow(/expected/);
      unpinned.destroy();
    } finally {
      client.close();
      await server.close();
      identity.close();
      await app.close();
    }
  });
});
