import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { loopbackSocketOps } from '@switchyard/core/memory';
import { LOCAL } from '@switchyard/dataplane/testing';
import { CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HboneClient } from './hbone-client.js';
import { HboneSidecar } from './hbone-sidecar.js';

/**
 * A TCP hop in front of the peer's 15008 whose `restart()` makes every open connection dead the
 * way a restarted peer's are: the next byte that arrives on one is answered with a reset (the new
 * peer has never heard of it). New connections go through as before.
 */
async function restartableHop(target: number) {
  const open: { client: Socket; upstream: Socket; stale: boolean }[] = [];
  let accepted = 0;
  const server: Server = createServer((client) => {
    accepted++;
    const upstream = connect(target, LOCAL);
    const pair = { client, upstream, stale: false };
    open.push(pair);
    client.on('data', (chunk) => {
      if (pair.stale) {
        client.resetAndDestroy();
        upstream.destroy();
      } else upstream.write(chunk);
    });
    upstream.on('data', (chunk) => pair.stale || client.write(chunk));
    for (const s of [client, upstream]) s.on('error', () => undefined);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => pair.stale || client.destroy());
  });
  server.listen(0, LOCAL);
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    restart: () => {
      for (const pair of open) {
        pair.stale = true;
        pair.upstream.destroy();
      }
    },
    close: () => {
      for (const pair of open) pair.client.destroy();
      return new Promise((r) => server.close(r));
    },
  };
}

describe('a pooled HBONE connection whose peer restarted', () => {
  let pki: TestPki;
  let app: Server;
  let peer: HboneSidecar;
  let certificates: CertificateStore;
  beforeAll(async () => {
    pki = await createTestPki();
    // the app answers and ends; a tunnel still open when its HBONE connection dies (the restart
    // below may come before the client's END_STREAM reached the peer) resets it: not an app error
    app = createServer((s) => s.on('error', () => undefined).end('answered\n')).listen(0, LOCAL);
    await once(app, 'listening');
    peer = new HboneSidecar({
      socketOps: loopbackSocketOps(),
      certificates: await CertificateStore.open(await pki.issue('api', 'web'), { watch: false }),
      hbonePort: 0,
      host: LOCAL,
    });
    await peer.start();
    certificates = await CertificateStore.open(await pki.issue('client', 'web'), { watch: false });
  });
  afterAll(async () => {
    certificates.close();
    await peer.close();
    app.close();
    await pki.dispose();
  });

  const ask = async (client: HboneClient, hopPort: number) => {
    const tunnel = await client.connect({
      destination: { address: LOCAL, port: (app.address() as AddressInfo).port },
      peer: { address: LOCAL, port: hopPort },
    });
    tunnel.end();
    let reply = '';
    for await (const chunk of tunnel) reply += chunk;
    return reply;
  };

  it('costs the next tunnel nothing: its CONNECT, reset before any answer, is tried once on a fresh connection', async () => {
    const hop = await restartableHop(peer.port('hbone'));
    const client = new HboneClient({
      socketOps: loopbackSocketOps(),
      certificates,
      identityFallback: 'trust-domain',
    });
    try {
      expect(await ask(client, hop.port)).toBe('answered\n');
      expect(hop.accepted()).toBe(1);
      hop.restart();
      expect(await ask(client, hop.port)).toBe('answered\n');
      expect(hop.accepted()).toBe(2); // the dead connection was dropped, a new one carried it
      expect(client.connectionCount).toBe(1);
    } finally {
      client.close();
      await hop.close();
    }
  });

  it("tells the identity its tunnel's peer presented (access logs name it, as mTLS's do)", async () => {
    const client = new HboneClient({
      socketOps: loopbackSocketOps(),
      certificates,
      identityFallback: 'trust-domain',
    });
    try {
      const tunnel = await client.connect({
        destination: { address: LOCAL, port: (app.address() as AddressInfo).port },
        peer: { address: LOCAL, port: peer.port('hbone') },
      });
      expect(client.peerOf(tunnel)).toBe('spiffe://cluster.local/ns/web/sa/api');
      tunnel.destroy();
    } finally {
      client.close();
    }
  });

  it('a connection that never served is not retried: its failure is the answer', async () => {
    const hop = await restartableHop(peer.port('hbone'));
    const client = new HboneClient({
      socketOps: loopbackSocketOps(),
      certificates,
      identityFallback: 'trust-domain',
    });
    try {
      // Refused by authorization (another namespace's peer would be): a status, never retried.
      await expect(
        client.connect({
          destination: { address: LOCAL, port: 1 },
          peer: { address: LOCAL, port: hop.port },
        }),
      ).rejects.toMatchObject({ code: 'SWY_ERR_HBONE_TUNNEL', status: expect.any(Number) });
      expect(hop.accepted()).toBe(1);
    } finally {
      client.close();
      await hop.close();
    }
  });
});
