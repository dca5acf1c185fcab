// A resumed TLS session is decided as a full handshake is: the identity it carries is checked
// against what the resolver pins for the destination now, on every connection.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { loopbackSocketOps } from '@switchyard/core/memory';
import { DataPlane, silentLogger } from '@switchyard/dataplane';
import { dialOutbound, LOCAL, readAll, startApp } from '@switchyard/dataplane/testing';
import { CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELAY_CHANNELS } from '../diagnostics.js';
import { addOutboundClient } from '../test-support/outbound-client.js';
import { mtlsNativeCarrier } from './mtls-native-carrier.js';

const SERVER = 'spiffe://cluster.local/ns/suite/sa/resumed-server';
const CLIENT = 'spiffe://cluster.local/ns/suite/sa/resumed-client';

type Heard = { spiffeId: string; resumed: boolean; admitted?: string };

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});
afterAll(() => pki.dispose());

describe('mtls-native with resumed sessions', () => {
  it('resumes between the data planes, and still refuses a server the resolver no longer pins', async () => {
    const app = await startApp();
    const stores = await Promise.all(
      ['resumed-server', 'resumed-client'].map(async (name) =>
        CertificateStore.open(await pki.issue(name, 'suite'), { watch: false }),
      ),
    );
    const [serverId, clientId] = stores as [CertificateStore, CertificateStore];
    let pinned = SERVER; // what the client's resolver expects of the destination, changed below
    const plane = (identities?: { expected: () => string[] }) =>
      new DataPlane({
        socketOps: loopbackSocketOps(),
        identityFallback: identities ? 'refuse' : 'trust-domain',
        ...(identities ? { identities } : {}),
        logger: silentLogger,
        timeouts: { handshake: 2_000, drain: 1_000 },
      });
    const server = plane();
    const client = plane({ expected: () => [pinned] });
    try {
      const served = await server.addWorkload({
        id: 'server',
        identity: serverId,
        carrier: mtlsNativeCarrier(),
        policy: { inbound: { port: 0, host: LOCAL, fixedDestination: { address: LOCAL, port: app.port } } },
      });
      const inbound = served.listeners.find((l) => l.role === 'inbound')?.port ?? 0;
      const outbound = await addOutboundClient(client, clientId, app.port, inbound);
      /** One connection through the pair: the bytes echoed back and what the engines decided. */
      const exchange = async () => {
        const heard: Heard[] = [];
        const hear = (m: unknown) => heard.push(...(m as { handshakes: Heard[] }).handshakes);
        subscribe(RELAY_CHANNELS.handshakes.name, hear);
        const s = dialOutbound(outbound);
        s.end('HELLO');
        const got = await readAll(s);
        await new Promise((r) => setTimeout(r, 50)); // the inbound handshake's batch may come last
        unsubscribe(RELAY_CHANNELS.handshakes.name, hear);
        const of = (id: string) => heard.filter((h) => h.spiffeId === id);
        return { bytes: got.bytes, clientSaw: of(SERVER), serverSaw: of(CLIENT) };
      };

      const first = await exchange();
      expect(first.bytes).toBe(5);
      expect(first.clientSaw).toEqual([expect.objectContaining({ resumed: false, admitted: 'accepted' })]);
      const second = await exchange();
      expect(second.bytes).toBe(5);
      expect(second.clientSaw).toEqual([expect.objectContaining({ resumed: true, admitted: 'accepted' })]);
      expect(second.serverSaw).toEqual([expect.objectContaining({ resumed: true })]);

      pinned = 'spiffe://cluster.local/ns/suite/sa/someone-else';
      const before = app.received();
      const third = await exchange();
      expect(third.bytes).toBe(0);
      expect(app.received()).toBe(before);
      expect(third.clientSaw).toEqual([expect.objectContaining({ resumed: true, admitted: 'refused' })]);
    } finally {
      await Promise.all([client.close(0), server.close(0)]);
      for (const s of stores) s.close();
      await app.close();
    }
  });
});
