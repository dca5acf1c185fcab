// POST mode on hbone-native: the JavaScript HBONE client (the reference) tunnels as a POST with
// the target in x-tun and its own mTLS inside the stream; a hand-made client presents another
// identity inside than outside.
import { connect as h2connect } from 'node:http2';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { loopbackSocketOps } from '@switchyard/core/memory';
import { DataPlane, silentLogger } from '@switchyard/dataplane';
import { LOCAL, startApp, type TestApp } from '@switchyard/dataplane/testing';
import { HboneClient } from '@switchyard/hbone';
import { CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hboneNativeCarrier } from './hbone-native-carrier.js';

const collect = (s: Duplex) =>
  new Promise<string>((resolve) => {
    let got = '';
    s.on('data', (d) => (got += d));
    s.on('end', () => resolve(got));
    s.on('error', () => resolve(got));
  });

describe('hbone-native POST mode (x-tun, mTLS end to end inside the stream)', () => {
  let pki: TestPki;
  let dirs: { client: string; server: string; other: string };
  let app: TestApp;
  let plane: DataPlane;
  let port: number;

  beforeAll(async () => {
    pki = await createTestPki();
    dirs = {
      client: await pki.issue('client', 'web'),
      server: await pki.issue('server', 'web'),
      other: await pki.issue('other', 'web'),
    };
    app = await startApp();
    plane = new DataPlane({
      socketOps: loopbackSocketOps(),
      identityFallback: 'trust-domain',
      logger: silentLogger,
    });
    const status = await plane.addWorkload({
      id: 'server',
      identity: await CertificateStore.open(dirs.server, { watch: false }),
      carrier: hboneNativeCarrier(),
      policy: { ports: { hbone: 0 }, inbound: { host: LOCAL } },
    });
    port = status.listeners.find((l) => l.role === 'hbone')?.port ?? 0;
  });
  afterAll(async () => {
    await plane.close(0);
    await app.close();
    await pki.dispose();
  });

  it('carries a POST tunnel to the app through the inner mTLS, and reports its bytes', async () => {
    const certificates = await CertificateStore.open(dirs.client, { watch: false });
    const client = new HboneClient({
      socketOps: loopbackSocketOps(),
      certificates,
      identityFallback: 'trust-domain',
    });
    try {
      const tunnel = await client.connect({
        mode: 'post',
        destination: { address: LOCAL, port: app.port },
        peer: { address: LOCAL, port },
      });
      expect((tunnel as unknown as { encrypted?: boolean }).encrypted).toBe(true);
      const reply = collect(tunnel);
      tunnel.end('posted through the engine');
      expect(await reply).toBe('posted through the engine'); // the app echoes
      await expect
        .poll(() => plane.metrics.registry.metrics())
        .toMatch(
          /switchyard_connections_total\{workload="server",carrier="hbone-native",direction="inbound",outcome="spliced"\} 1/,
        );
    } finally {
      client.close();
      certificates.close();
    }
  });

  /** A POST on a fresh HTTP/2 connection as the `client` identity; resolves with its answer's status. */
  async function post(xTun?: string) {
    const outer = await CertificateStore.open(dirs.client, { watch: false });
    const o = outer.current;
    outer.close();
    const session = h2connect(`https://${LOCAL}:${port}`, {
      cert: o.chain,
      key: o.key,
      ca: o.bundle,
      checkServerIdentity: () => undefined,
    });
    const headers = { ':method': 'POST', ':scheme': 'https', ':path': '/', ':authority': `${LOCAL}:${port}` };
    const stream = session.request(xTun ? { ...headers, 'x-tun': xTun } : headers);
    const status = await new Promise<number>((resolve) =>
      stream.once('response', (h) => resolve(Number(h[':status']))),
    );
    return { session, stream, status };
  }

  it('resets a POST tunnel whose inner identity is not the outer one; nothing reaches the app', async () => {
    const before = app.received();
    const { session, stream, status } = await post(`${LOCAL}:${app.port}`);
    const inner = await CertificateStore.open(dirs.other, { watch: false });
    try {
      expect(status).toBe(200);
      const i = inner.current;
      const tls = tlsConnect({
        socket: stream as unknown as Duplex,
        cert: i.chain,
        key: i.key,
        ca: i.bundle,
        checkServerIdentity: () => undefined,
      } as never);
      const ended = new Promise<string>((resolve) => {
        tls.once('error', (e) => resolve(`error ${e.message}`));
        tls.once('close', () => resolve('closed'));
      });
      tls.write('should never arrive');
      expect(await ended).toMatch(/closed|error/);
      await new Promise((r) => setTimeout(r, 100));
      expect(app.received()).toBe(before);
      expect(await plane.metrics.registry.metrics()).toMatch(
        /switchyard_authorization_denials_total\{workload="server",carrier="hbone-native",direction="inbound",reason="inner-identity"\} 1/,
      );
    } finally {
      session.destroy();
      inner.close();
    }
  });

  it('answers a POST without x-tun 400, as the JavaScript server does', async () => {
    const { session, status } = await post();
    session.destroy();
    expect(status).toBe(400);
  });
});
