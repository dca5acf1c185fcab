import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { loopbackSocketOps } from '@switchyard/core/memory';
import { DataPlane, type InboundRequest, silentLogger } from '@switchyard/dataplane';
import { CERT_FILES, CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mtlsCarrier } from './mtls-carrier.js';

const LOCAL = '127.0.0.1';

describe("the data plane's authorizer on the mtls carrier", () => {
  let pki: TestPki;
  let plane: DataPlane;
  let app: Server;
  let inboundPort = 0;
  let appPort = 0;
  let received = 0;
  const asked: InboundRequest[] = [];
  const dirs: Record<string, string> = {};

  beforeAll(async () => {
    pki = await createTestPki();
    for (const [name, ns] of [
      ['server', 'web'],
      ['client', 'web'],
      ['evil', 'billing'],
    ] as const)
      dirs[name] = await pki.issue(name, ns, name);
    app = createServer((s) => {
      received += 1;
      s.on('error', () => {});
      s.end('hello\n');
    });
    await new Promise<void>((r) => app.listen(0, LOCAL, r));
    appPort = (app.address() as { port: number }).port;
    plane = new DataPlane({
      socketOps: loopbackSocketOps(),
      identityFallback: 'trust-domain',
      logger: silentLogger,
      // Allows the client alone, naming the policy; records what it was asked.
      authorizer: {
        authorize: (r) => {
          asked.push(r);
          return r.peer?.endsWith('/ns/web/sa/client')
            ? { allowed: true, reason: 'allowed by test', policy: 'web/allow-client' }
            : { allowed: false, reason: 'denied by test', policy: 'web/deny-rest' };
        },
      },
    });
    const status = await plane.addWorkload({
      id: 'web/server',
      identity: await CertificateStore.open(dirs.server as string, { watch: false }),
      carrier: mtlsCarrier(),
      policy: { inbound: { port: 0, host: LOCAL, fixedDestination: { address: LOCAL, port: appPort } } },
    });
    inboundPort = status.listeners.find((l) => l.role === 'inbound')?.port ?? 0;
  });
  afterAll(async () => {
    await plane?.close(0);
    await new Promise((r) => app?.close(r));
    await pki?.dispose();
  });

  /** Connects with `who`'s certificate; the first line the app sends, or how it ended. */
  const ask = (who: string) =>
    new Promise<string>((resolve) => {
      const file = (f: string) => readFileSync(join(dirs[who] as string, f));
      const tls = tlsConnect({
        host: LOCAL,
        port: inboundPort,
        cert: file(CERT_FILES.chain),
        key: file(CERT_FILES.key),
        ca: file(CERT_FILES.bundle),
        checkServerIdentity: () => undefined,
      });
      let text = '';
      tls.on('data', (d) => (text += d));
      tls.on('error', () => {});
      tls.on('close', () => resolve(text.split('\n')[0] || 'closed'));
    });

  it('decides each connection with its source, destination (where it is delivered) and peer; a denied peer reaches nothing', async () => {
    expect(await ask('client')).toBe('hello');
    const before = received;
    expect(await ask('evil')).toBe('closed');
    expect(received).toBe(before);
    expect(asked.map((r) => [r.workload, r.source, r.destination.port, r.peer])).toEqual([
      ['web/server', LOCAL, appPort, 'spiffe://cluster.local/ns/web/sa/client'],
      ['web/server', LOCAL, appPort, 'spiffe://cluster.local/ns/billing/sa/evil'],
    ]);
    expect(await plane.metrics.registry.metrics()).toMatch(
      /switchyard_authorization_denials_total\{workload="web\/server",carrier="mtls",direction="inbound",reason="policy"\} 1/,
    );
  });
});
