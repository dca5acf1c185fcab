import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { loopbackSocketOps } from '@switchyard/core/memory';
import { DataPlane, silentLogger } from '@switchyard/dataplane';
import { dialOutbound, LOCAL, readAll, startApp } from '@switchyard/dataplane/testing';
import { CERT_FILES, CertificateStore } from '@switchyard/mesh';
import { createTestPki, issueCrafted, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mtlsCarrier } from './mtls-carrier.js';

const ALLOWED = 'spiffe://cluster.local/ns/web/sa/client';
const OTHER = 'spiffe://cluster.local/ns/admin/sa/root';

describe('certificates with two SPIFFE IDs (an SVID has exactly one)', () => {
  let pki: TestPki;
  let crafted: string;
  beforeAll(async () => {
    pki = await createTestPki();
    // The allowed identity first, as the attack found accepted.
    crafted = await issueCrafted(pki, 'two-ids', [ALLOWED, OTHER]);
  });
  afterAll(() => pki.dispose());
  const files = (dir: string) => ({
    cert: readFileSync(join(dir, CERT_FILES.chain)),
    key: readFileSync(join(dir, CERT_FILES.key)),
    ca: readFileSync(join(dir, CERT_FILES.bundle)),
  });
  const plane = () =>
    new DataPlane({ socketOps: loopbackSocketOps(), identityFallback: 'trust-domain', logger: silentLogger });

  it('the mTLS server refuses a client presenting two, and the app never sees a byte', async () => {
    const app = await startApp();
    const server = plane();
    const status = await server.addWorkload({
      id: 'server',
      identity: await CertificateStore.open(await pki.issue('server', 'web'), { watch: false }),
      carrier: mtlsCarrier(),
      policy: { inbound: { port: 0, host: LOCAL, fixedDestination: { address: LOCAL, port: app.port } } },
    });
    const port = status.listeners[0]?.port ?? 0;
    const s = tlsConnect({ host: LOCAL, port, ...files(crafted), checkServerIdentity: () => undefined });
    s.on('error', () => undefined);
    s.write('SECRET-PAYLOAD');
    await new Promise((r) => s.once('close', r));
    expect(app.received()).toBe(0);
    expect(await server.metrics.registry.metrics()).toMatch(
      /switchyard_authorization_denials_total\{[^}]*reason="identity"\} 1/,
    );
    await server.close(0);
    await app.close();
  });

  it('the mTLS client refuses a server presenting two, before sending a byte', async () => {
    let received = 0;
    const impostor = createTlsServer(
      { ...files(crafted), requestCert: true, rejectUnauthorized: true },
      (s) => {
        s.on('error', () => undefined);
        s.on('data', (d: Buffer) => {
          received += d.length;
        });
      },
    );
    await new Promise<void>((r) => impostor.listen(0, LOCAL, r));
    const impostorPort = (impostor.address() as { port: number }).port;
    const client = plane();
    const status = await client.addWorkload({
      id: 'client',
      identity: await CertificateStore.open(await pki.issue('client', 'web'), { watch: false }),
      carrier: mtlsCarrier(),
      policy: {
        outbound: {
          port: 0,
          host: LOCAL,
          meshCidrs: ['127.0.0.0/8'],
          fixedDestination: { address: LOCAL, port: impostorPort },
        },
      },
    });
    const s = dialOutbound(status.listeners[0]?.port ?? 0);
    s.write('SECRET-PAYLOAD');
    expect((await readAll(s)).bytes).toBe(0);
    expect(received).toBe(0);
    expect(await client.metrics.registry.metrics()).toMatch(
      /switchyard_authorization_denials_total\{[^}]*reason="several-identities"\} 1/,
    );
    await client.close(0);
    await new Promise((r) => impostor.close(r));
  });
});
