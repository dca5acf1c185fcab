import { readFileSync } from 'node:fs';
import { connect as h2connect } from 'node:http2';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { loopbackSocketOps } from '@switchyard/core/memory';
import { CERT_FILES, CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HboneClient, HboneConnectError } from './hbone-client.js';
import { startTestServer } from './test-server.js';

const LOCAL = '127.0.0.1';
let pki: TestPki;
let dirs: { client: string; server: string; otherNs: string };
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  pki = await createTestPki();
  const issue = (name: string, ns: string) => pki.issue(name, ns);
  dirs = {
    client: await issue('client', 'web'),
    server: await issue('server', 'web'),
    otherNs: await issue('intruder', 'other'),
  };
});
afterAll(() => pki.dispose());
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function app(): Promise<{ port: number; received: () => number; sockets: Socket[] }> {
  let received = 0;
  const sockets: Socket[] = [];
  const server: Server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.push(s);
    s.on('error', () => {});
    s.on('data', (d) => {
      received += d.length;
      s.write(d);
    });
    s.on('end', () => s.end());
  });
  await new Promise<void>((r) => server.listen(0, LOCAL, r));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(r));
  });
  return { port: (server.address() as { port: number }).port, received: () => received, sockets };
}

async function hboneServer(certDir = dirs.server) {
  const certificates = await CertificateStore.open(certDir, { watch: false });
  const server = await startTestServer(certificates);
  cleanups.push(() => server.close());
  return server;
}

async function hboneClient(certDir = dirs.client) {
  const certificates = await CertificateStore.open(certDir, { watch: false });
  const client = new HboneClient({
    socketOps: loopbackSocketOps(),
    identityFallback: 'trust-domain',
    certificates,
  });
  cleanups.push(() => client.close());
  return client;
}

const collect = (s: NodeJS.ReadableStream) =>
  new Promise<string>((resolve) => {
    let text = '';
    s.on('data', (d) => {
      text += d.toString();
    });
    s.once('end', () => resolve(text));
  });

/** A bare HTTP/2 client with the client's certificate, to send what Switchyard's own client never would. */
function rawSession(port: number) {
  const session = h2connect(`https://${LOCAL}:${port}`, {
    cert: readFileSync(join(dirs.client, CERT_FILES.chain)),
    key: readFileSync(join(dirs.client, CERT_FILES.key)),
    ca: readFileSync(join(dirs.client, CERT_FILES.bundle)),
    checkServerIdentity: () => undefined,
  });
  cleanups.push(() => session.destroy());
  return session;
}

describe('HBONE over loopback', () => {
  it('tunnels bytes both ways as one CONNECT stream, carrying half-close as END_STREAM', async () => {
    const target = await app();
    const server = await hboneServer();
    const client = await hboneClient();
    const tunnel = await client.connect({
      destination: { address: LOCAL, port: target.port },
      peer: { address: LOCAL, port: server.port },
      client: { address: '10.1.2.3', port: 4567 },
      baggage: { 'k8s.namespace.name': 'web' },
    });
    const reply = collect(tunnel);
    tunnel.end('through the tunnel');
    expect(await reply).toBe('through the tunnel');
    expect(await server.metrics.registry.metrics()).toMatch(
      /switchyard_connections_total\{[^}]*direction="inbound",outcome="spliced"\} 1/,
    );
  });

  it('pools: 500 concurrent tunnels to one peer use ⌈500/100⌉ = 5 TLS connections', async () => {
    const target = await app();
    const server = await hboneServer();
    const client = await hboneClient();
    const peer = { address: LOCAL, port: server.port };
    const tunnels = await Promise.all(
      Array.from({ length: 500 }, () =>
        client.connect({ destination: { address: LOCAL, port: target.port }, peer }),
      ),
    );
    expect(client.connectionCount).toBe(5);
    expect(server.sessionCount).toBe(5);
    const one = collect(tunnels[499]!);
    tunnels[499]!.end('x');
    expect(await one).toBe('x');
    for (const t of tunnels) t.destroy();
  });

  it('closes at once a peer that did not offer h2, counted as a TLS protocol failure', async () => {
    const server = await hboneServer();
    const tls = tlsConnect({
      host: LOCAL,
      port: server.port,
      cert: readFileSync(join(dirs.client, CERT_FILES.chain)),
      key: readFileSync(join(dirs.client, CERT_FILES.key)),
      ca: readFileSync(join(dirs.client, CERT_FILES.bundle)),
      checkServerIdentity: () => undefined,
    });
    cleanups.push(() => tls.destroy());
    tls.on('error', () => undefined); // the end is what is looked at
    await new Promise<void>((resolve) => tls.once('secureConnect', () => resolve()));
    expect(tls.alpnProtocol).toBe(false);
    const started = Date.now();
    await new Promise<void>((resolve) => tls.once('close', () => resolve()));
    // Node's HTTP/2 would have half-closed it and held it for 10 s
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(server.sessionCount).toBe(0);
    expect(await server.metrics.registry.metrics()).toMatch(
      /switchyard_tls_failures_total\{[^}]*reason="protocol"\} 1/,
    );
  });

  it('answers 401 to a denied identity, and the target never sees a byte', async () => {
    const target = await app();
    const server = await hboneServer();
    const intruder = await hboneClient(dirs.otherNs);
    const error = await intruder
      .connect({
        destination: { address: LOCAL, port: target.port },
        peer: { address: LOCAL, port: server.port },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HboneConnectError);
    expect((error as InstanceType<typeof HboneConnectError>).status).toBe(401);
    expect(target.sockets).toHaveLength(0);
    expect(target.received()).toBe(0);
  });

  it('answers 503 when the target is unreachable and 400 for a malformed authority', async () => {
    const server = await hboneServer();
    const client = await hboneClient();
    const peer = { address: LOCAL, port: server.port };
    const closedPort = await app().then(async (a) => {
      const port = a.port;
      for (const c of cleanups.splice(-1)) await c();
      return port;
    });
    await expect(
      client.connect({ destination: { address: LOCAL, port: closedPort }, peer }),
    ).rejects.toMatchObject({ status: 503 });
    // A raw HTTP/2 client, to send what Switchyard's own client never would.
    const session = rawSession(server.port);
    const status = await new Promise<number>((resolve) => {
      const stream = session.request({ ':method': 'CONNECT', ':authority': 'not-an-address:80' });
      stream.on('response', (h) => resolve(Number(h[':status'])));
      stream.on('error', () => resolve(-1));
    });
    expect(status).toBe(400);
  });

  it('advertises the stream limit, so clients open another connection rather than queueing', async () => {
    const server = await hboneServer();
    const session = rawSession(server.port);
    await new Promise((r) => session.once('remoteSettings', r));
    expect(session.remoteSettings).toMatchObject({
      maxConcurrentStreams: 100,
      initialWindowSize: 4 * 1024 * 1024,
      maxFrameSize: 1024 * 1024,
    });
  });

  it('does not buffer without bound when the client stops reading', async () => {
    const target = await app();
    const server = await hboneServer();
    const client = await hboneClient();
    const tunnel = await client.connect({
      destination: { address: LOCAL, port: target.port },
      peer: { address: LOCAL, port: server.port },
    });
    tunnel.pause(); // the client reads nothing from here on
    tunnel.write('start');
    await new Promise((r) => setTimeout(r, 100));
    const appSide = target.sockets[0]!;
    const chunk = Buffer.alloc(1024 * 1024, 1);
    let offered = 0;
    // Bounded: the app offers at most 128 MiB, then stops.
    while (offered < 128 * 1024 * 1024 && appSide.write(chunk)) offered += chunk.length;
    await new Promise((r) => setTimeout(r, 1000));
    // What left the app is bounded by the HTTP/2 windows (4 MiB stream, 16 MiB connection) plus socket buffers.
    expect(appSide.bytesWritten - appSide.writableLength).toBeLessThan(40 * 1024 * 1024);
    expect(offered).toBeLessThan(128 * 1024 * 1024);
    tunnel.destroy();
  });
});

describe('HBONE POST mode (x-tun, mTLS end to end inside the stream)', () => {
  it('tunnels as a POST with the target in x-tun, authorizing the inner identity', async () => {
    const target = await app();
    const events: unknown[] = [];
    const certificates = await CertificateStore.open(dirs.server, { watch: false });
    const server = await startTestServer(certificates, { onTunnel: (e) => events.push(e) });
    cleanups.push(() => server.close());
    const client = await hboneClient();
    const tunnel = await client.connect({
      mode: 'post',
      destination: { address: LOCAL, port: target.port },
      peer: { address: LOCAL, port: server.port },
    });
    expect((tunnel as unknown as { encrypted?: boolean }).encrypted).toBe(true); // the inner TLS, not the bare stream
    const reply = collect(tunnel);
    tunnel.end('posted through');
    expect(await reply).toBe('posted through');
    expect(target.received()).toBe('posted through'.length);
    // The server reports a tunnel once both of its sides have closed.
    for (let i = 0; i < 50 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(events).toContainEqual(
      expect.objectContaining({ outcome: 'spliced', peer: 'spiffe://cluster.local/ns/web/sa/client' }),
    );
  });

  it('closes a POST tunnel whose inner identity is denied, before a byte reaches the target', async () => {
    const target = await app();
    const server = await hboneServer();
    const intruder = await hboneClient(dirs.otherNs);
    const outcome = await intruder
      .connect({
        mode: 'post',
        destination: { address: LOCAL, port: target.port },
        peer: { address: LOCAL, port: server.port },
      })
      .then(
        (t) =>
          new Promise<string>((resolve) => {
            t.on('error', () => resolve('error'));
            t.on('close', () => resolve('closed'));
            t.write('should never arrive');
          }),
        () => 'refused',
      );
    // The outer peer is authorized before anything else: a denied one never gets a 200.
    expect(outcome).toBe('refused');
    await new Promise((r) => setTimeout(r, 100));
    expect(target.sockets).toHaveLength(0);
    expect(await server.metrics.registry.metrics()).toMatch(
      /switchyard_authorization_denials_total\{[^}]*direction="inbound"[^}]*\} 1/,
    );
  });
});

describe('HBONE pool lifecycle', () => {
  it('opens a second connection for the 101st stream, and closes idle connections', async () => {
    const target = await app();
    const server = await hboneServer();
    const certificates = await CertificateStore.open(dirs.client, { watch: false });
    const client = new HboneClient({
      socketOps: loopbackSocketOps(),
      identityFallback: 'trust-domain',
      certificates,
      idleTimeoutMs: 200,
    });
    cleanups.push(() => client.close());
    const peer = { address: LOCAL, port: server.port };
    const hundred = await Promise.all(
      Array.from({ length: 100 }, () =>
        client.connect({ destination: { address: LOCAL, port: target.port }, peer }),
      ),
    );
    expect(client.connectionCount).toBe(1);
    const extra = await client.connect({ destination: { address: LOCAL, port: target.port }, peer });
    expect(client.connectionCount).toBe(2);
    for (const t of [...hundred, extra]) t.destroy();
    for (let i = 0; i < 100 && client.connectionCount > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(client.connectionCount).toBe(0);
    for (let i = 0; i < 100 && server.sessionCount > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(server.sessionCount).toBe(0);
  });
});
