import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { loopbackSocketOps } from '@switchyard/core/memory';
import { CertificateStore, loadCertificateDir, spiffeIdsFromSan } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readServerName } from './client-hello.js';
import { SniGateway } from './sni-gateway-plane.js';
import { startTestServer } from './test-server.js';

const LOCAL = '127.0.0.1';
let pki: TestPki;
let dirs: { gateway: string; server: string; app: string; outsider: string };
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  pki = await createTestPki();
  const issue = (name: string, ns: string) => pki.issue(name, ns);
  dirs = {
    gateway: await issue('gateway', 'web'),
    server: await issue('server', 'web'),
    app: await issue('app', 'web'),
    outsider: await issue('outsider', 'web'),
  };
});
afterAll(() => pki.dispose());
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The first bytes a real TLS client sends, captured from Node's own TLS stack. */
async function clientHello(servername?: string): Promise<Buffer> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, LOCAL, r));
  const first = new Promise<Buffer>((resolve) =>
    server.once('connection', (s) =>
      s.once('data', (d: Buffer) => {
        resolve(d);
        s.destroy();
      }),
    ),
  );
  const client = tlsConnect({
    port: (server.address() as { port: number }).port,
    host: LOCAL,
    ...(servername ? { servername } : {}),
    rejectUnauthorized: false,
  });
  client.on('error', () => {});
  const bytes = await first;
  client.destroy();
  server.close();
  return bytes;
}

describe('readServerName', () => {
  it('finds the SNI of a real ClientHello, and says when there is none or not enough', async () => {
    const hello = await clientHello('app.example');
    expect(readServerName(hello)).toEqual({ kind: 'found', serverName: 'app.example' });
    expect(readServerName(hello.subarray(0, 40))).toEqual({ kind: 'incomplete' });
    expect(readServerName(await clientHello())).toEqual({ kind: 'absent' }); // an IP literal host sends no SNI
    expect(readServerName(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toMatchObject({ kind: 'not-tls' });
  });
});

describe('SNI gateway on 15443', () => {
  it('forwards a TLS session it cannot decrypt through HBONE to the peer its server name routes to', async () => {
    // The target terminates the client's TLS itself, with its own certificate.
    const appCert = await loadCertificateDir(dirs.app);
    const app = createTlsServer({ cert: appCert.chain, key: appCert.key }, (s) => s.pipe(s));
    await new Promise<void>((r) => app.listen(0, LOCAL, r));
    cleanups.push(() => new Promise((r) => app.close(r)));
    const server = await startTestServer(await CertificateStore.open(dirs.server, { watch: false }));
    cleanups.push(() => server.close());
    const refused: string[] = [];
    // The gateway's own identity, accepting any HBONE peer of its trust domain.
    const gateway = new SniGateway({
      socketOps: loopbackSocketOps(),
      certificates: await CertificateStore.open(dirs.gateway, { watch: false }),
      port: 0,
      host: LOCAL,
      onRefused: (reason) => refused.push(reason),
      helloTimeoutMs: 1000,
      route: (name) =>
        name === 'app.example'
          ? {
              peer: { address: LOCAL, port: server.port },
              destination: { address: LOCAL, port: (app.address() as { port: number }).port },
            }
          : undefined,
    });
    await gateway.start();
    cleanups.push(() => gateway.close());

    const session = tlsConnect({
      port: gateway.port,
      host: LOCAL,
      servername: 'app.example',
      ca: appCert.bundle,
      checkServerIdentity: () => undefined,
    });
    await new Promise((r) => session.once('secureConnect', r));
    // The certificate the client sees is the target's, not the gateway's: TLS runs end to end.
    expect(spiffeIdsFromSan(session.getPeerCertificate().subjectaltname)).toEqual([
      'spiffe://cluster.local/ns/web/sa/app',
    ]);
    const echoed = new Promise<string>((resolve) =>
      session.once('data', (d: Buffer) => resolve(d.toString())),
    );
    session.write('end to end');
    expect(await echoed).toBe('end to end');
    session.destroy();

    const unknown = tlsConnect({
      port: gateway.port,
      host: LOCAL,
      servername: 'nowhere.example',
      rejectUnauthorized: false,
    });
    await new Promise((r) => {
      unknown.once('error', r);
      unknown.once('close', r);
    });
    expect(refused).toEqual(['no route for nowhere.example']);
  });
});
