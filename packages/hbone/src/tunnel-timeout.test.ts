import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { loopbackSocketOps } from '@switchyard/core/memory';
import { silentLogger, Upstream } from '@switchyard/dataplane';
import { LOCAL } from '@switchyard/dataplane/testing';
import { CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HboneClient } from './hbone-client.js';

describe('a tunnel waits for its answer as long as the data plane’s connect timeout, not a fixed one', () => {
  let pki: TestPki;
  let server: Http2SecureServer;
  let port: number;
  let client: CertificateStore;
  beforeAll(async () => {
    pki = await createTestPki();
    const peer = await CertificateStore.open(await pki.issue('api', 'web'), { watch: false });
    const { chain, key, bundle } = peer.current;
    // A peer that takes the CONNECT stream and never answers.
    server = createSecureServer({ cert: chain, key, ca: bundle, requestCert: true, minVersion: 'TLSv1.3' });
    server.on('stream', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, LOCAL, resolve));
    port = (server.address() as AddressInfo).port;
    peer.close();
    client = await CertificateStore.open(await pki.issue('client', 'web'), { watch: false });
  });
  afterAll(async () => {
    client.close();
    await new Promise((resolve) => server.close(resolve));
    await pki.dispose();
  });

  it('a 300 ms connect timeout gives up after about 300 ms', async () => {
    const upstream = new Upstream({
      socketOps: loopbackSocketOps(),
      connectTimeout: 300,
      handshakeTimeout: 2_000,
      identityFallback: 'trust-domain',
      logger: silentLogger,
    });
    const hbone = new HboneClient({ upstream, certificates: client });
    try {
      await expect(
        hbone.connect({ destination: { address: LOCAL, port: 8080 }, peer: { address: LOCAL, port } }),
      ).rejects.toThrow(/within 300 ms/); // the connect timer, not the 2 s handshake one
    } finally {
      hbone.close();
    }
  });
});
