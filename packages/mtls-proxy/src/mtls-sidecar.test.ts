import { spawn } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { loopbackSocketOps } from '@switchyard/core/memory';
import { CHANNELS, type ConnectionReport as ConnectionEvent, startAdminServer } from '@switchyard/dataplane';
import { CERT_FILES, CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MtlsSidecar } from './mtls-sidecar.js';
import type { MtlsSidecarOptions } from './options.js';

const LOCAL = '127.0.0.1';
let pki: TestPki;
let dirs: Record<'client' | 'server' | 'otherNs' | 'otherTd', string>;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  pki = await createTestPki();
  dirs = {
    client: await pki.issue('client', 'web', 'client'),
    server: await pki.issue('server', 'web', 'server'),
    otherNs: await pki.issue('other-ns', 'billing', 'x'),
    otherTd: await pki.issue('other-td', 'web', 'client', 'other'),
  };
});
afterAll(() => pki.dispose());
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const port = (s: Server) => (s.address() as { port: number }).port;

/** A plain app that echoes and remembers every byte it ever received. */
async function app(): Promise<{ server: Server; received: () => string; port: number }> {
  let received = '';
  const server = createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    s.on('data', (d) => {
      received += d.toString('latin1');
      s.write(d);
    });
    s.on('end', () => s.end());
  });
  await new Promise<void>((r) => server.listen(0, LOCAL, r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  return { server, received: () => received, port: port(server) };
}

async function sidecar(
  options: Omit<MtlsSidecarOptions, 'socketOps' | 'certificates' | 'log'> & { certDir: string },
) {
  const certificates = await CertificateStore.open(options.certDir);
  const logs: unknown[] = [];
  const s = new MtlsSidecar({
    socketOps: loopbackSocketOps(),
    certificates,
    log: (l) => logs.push(l),
    accessLog: true,
    ...options,
  });
  await s.start();
  cleanups.push(() => certificates.close());
  cleanups.push(() => s.close());
  return {
    sidecar: s,
    logs,
    port: (d: 'inbound' | 'outbound') => s.addresses().find((a) => a.direction === d)!.port,
  };
}

/** Outbound sidecar A (client identity) → inbound sidecar B (server identity) → app. */
async function meshPair(inbound: Partial<NonNullable<MtlsSidecarOptions['inbound']>> = {}) {
  const target = await app();
  const b = await sidecar({
    certDir: dirs.server,
    inbound: { port: 0, host: LOCAL, fixedDestination: { address: LOCAL, port: target.port }, ...inbound },
  });
  const a = await sidecar({
    certDir: dirs.client,
    outbound: {
      port: 0,
      host: LOCAL,
      meshCidrs: ['127.0.0.0/8'],
      fixedDestination: { address: LOCAL, port: b.port('inbound') },
    },
  });
  return { app: target, a, b };
}

/** A drain deadline no connection in these tests comes near: a drain that waits for it is a bug. */
const DRAIN_DEADLINE_MS = 60_000;

function talk(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    socket.on('data', (d) => {
      got += d.toString();
    });
    socket.once('end', () => resolve(got));
    socket.once('close', () => resolve(got));
    socket.once('error', reject);
    socket.end(text);
  });
}

const plainClient = (p: number) => connect({ port: p, host: LOCAL, allowHalfOpen: true });

function tlsClient(p: number, certDir: string | undefined) {
  return tlsConnect({
    port: p,
    host: LOCAL,
    ca: readFileSync(join(dirs.server, CERT_FILES.bundle)),
    ...(certDir
      ? {
          cert: readFileSync(join(certDir, CERT_FILES.chain)),
          key: readFileSync(join(certDir, CERT_FILES.key)),
        }
      : {}),
    checkServerIdentity: () => undefined,
  });
}

describe('MtlsSidecar over loopback', () => {
  it('carries bytes both ways through the outbound and inbound sidecars, authorizing the client identity', async () => {
    const events: ConnectionEvent[] = [];
    const onEvent = (e: unknown) => events.push(e as ConnectionEvent);
    subscribe(CHANNELS.connection, onEvent);
    try {
      const { a, b } = await meshPair();
      expect(await talk(plainClient(a.port('outbound')), 'hello mesh')).toBe('hello mesh');
      await new Promise((r) => setTimeout(r, 50));
      const inbound = events.find((e) => e.direction === 'inbound');
      expect(inbound).toMatchObject({
        outcome: 'spliced',
        peer: 'spiffe://cluster.local/ns/web/sa/client',
        up: 10,
        down: 10,
      });
      expect(events.find((e) => e.direction === 'outbound')).toMatchObject({
        outcome: 'spliced',
        peer: 'spiffe://cluster.local/ns/web/sa/server',
      });
      const metrics = await b.sidecar.metrics.registry.metrics();
      expect(metrics).toMatch(/switchyard_connections_total\{[^}]*direction="inbound",outcome="spliced"\} 1/);
      expect(metrics).toMatch(/switchyard_bytes_total\{[^}]*direction="inbound",flow="up"\} 10/);
    } finally {
      unsubscribe(CHANNELS.connection, onEvent);
    }
  });

  it.each([
    [
      'another namespace (default policy)',
      'otherNs',
      /authorization_denials_total\{[^}]*reason="policy"\} 1/,
    ],
    ['another trust domain', 'otherTd', /tls_failures_total\{[^}]*direction="inbound"[^}]*\} 1/],
    ['no certificate', undefined, /tls_failures_total\{[^}]*reason="no-certificate"\} 1/],
  ] as const)(
    'denies a peer from %s: counted, and the app never sees a byte',
    async (_label, who, counted) => {
      const { app: target, b } = await meshPair();
      const client = tlsClient(b.port('inbound'), who ? dirs[who] : undefined);
      client.on('error', () => {});
      client.write('SECRET-PAYLOAD');
      await new Promise((r) => client.once('close', r));
      await new Promise((r) => setTimeout(r, 50));
      expect(target.received()).toBe('');
      expect(await b.sidecar.metrics.registry.metrics()).toMatch(counted);
    },
  );

  it('a connection the server denies after the handshake resets the client app and is reported failed/reset with the reason, not spliced', async () => {
    const events: ConnectionEvent[] = [];
    const onEvent = (e: unknown) => events.push(e as ConnectionEvent);
    subscribe(CHANNELS.connection, onEvent);
    try {
      // The server allows only another service account: the client's TLS handshake succeeds (TLS 1.3),
      // then the server's authorization refuses it and closes.
      const { app: target, a } = await meshPair({ authorization: { allow: [{ serviceAccount: 'nobody' }] } });
      // As an HTTP client does: it writes its request and waits for the answer without ending its side.
      const client = plainClient(a.port('outbound'));
      const ended = new Promise<string>((resolve) => {
        client.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
        client.once('end', () => resolve('end'));
      });
      let answer = '';
      client.on('data', (d: Buffer) => {
        answer += d.toString();
      });
      client.write('GET / HTTP/1.1\r\nHost: server\r\n\r\n');
      expect(await ended).toBe('ECONNRESET');
      client.destroy();
      expect(answer).toBe('');
      await expect
        .poll(() => events.find((e) => e.direction === 'outbound'))
        .toMatchObject({
          outcome: 'failed',
          code: 'reset',
          reason: expect.stringContaining("a denial by the server's policy ends this way"),
          peer: 'spiffe://cluster.local/ns/web/sa/server',
          down: 0,
        });
      expect(events.find((e) => e.direction === 'inbound')).toMatchObject({ outcome: 'denied' });
      expect(target.received()).toBe('');
      expect(await a.sidecar.metrics.registry.metrics()).toMatch(
        /switchyard_connections_total\{[^}]*direction="outbound",outcome="failed"\} 1/,
      );
    } finally {
      unsubscribe(CHANNELS.connection, onEvent);
    }
  });

  it('never falls back to plaintext when TLS toward a mesh destination fails', async () => {
    const plain = await app(); // not a TLS peer: it will only ever see a ClientHello
    const a = await sidecar({
      certDir: dirs.client,
      outbound: {
        port: 0,
        host: LOCAL,
        meshCidrs: ['127.0.0.0/8'],
        fixedDestination: { address: LOCAL, port: plain.port },
      },
    });
    const reply = await talk(plainClient(a.port('outbound')), 'SECRET-PAYLOAD').catch(() => '');
    expect(reply).toBe('');
    expect(plain.received()).not.toContain('SECRET-PAYLOAD');
    expect(plain.received().charCodeAt(0)).toBe(0x16); // a TLS handshake record, nothing else
    expect(await a.sidecar.metrics.registry.metrics()).toMatch(
      /switchyard_tls_failures_total\{[^}]*direction="outbound",reason="handshake"\} 1/,
    );
  });

  it('refuses destinations outside the mesh unless passthrough is on', async () => {
    const target = await app();
    const fixed = { address: LOCAL, port: target.port };
    const closed = await sidecar({
      certDir: dirs.client,
      outbound: { port: 0, host: LOCAL, meshCidrs: ['10.0.0.0/8'], fixedDestination: fixed },
    });
    expect(await talk(plainClient(closed.port('outbound')), 'out').catch(() => '')).toBe('');
    expect(target.received()).toBe('');
    const open = await sidecar({
      certDir: dirs.client,
      outbound: {
        port: 0,
        host: LOCAL,
        meshCidrs: ['10.0.0.0/8'],
        fixedDestination: fixed,
        passthroughOutsideMesh: true,
      },
    });
    expect(await talk(plainClient(open.port('outbound')), 'out')).toBe('out');
  });

  it('lets plain TCP in only from the allowed sources', async () => {
    const { app: target, b } = await meshPair({ plaintextSources: ['127.0.0.1/32'] });
    expect(await talk(plainClient(b.port('inbound')), 'probe')).toBe('probe');
    expect(target.received()).toBe('probe');
  });

  it('interoperates with openssl s_client presenting a mesh certificate', async () => {
    const { b } = await meshPair();
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('openssl', [
        's_client',
        '-connect',
        `${LOCAL}:${b.port('inbound')}`,
        '-tls1_3',
        '-quiet',
        '-cert',
        join(dirs.client, CERT_FILES.chain),
        '-key',
        join(dirs.client, CERT_FILES.key),
        '-CAfile',
        join(dirs.client, CERT_FILES.bundle),
      ]);
      let stdout = '';
      const timer = setTimeout(() => child.kill(), 10_000);
      child.stdout.on('data', (d) => {
        stdout += d.toString();
        if (stdout.includes('from-openssl')) child.kill();
      });
      child.once('error', reject);
      child.once('close', () => {
        clearTimeout(timer);
        resolve(stdout);
      });
      child.stdin.write('from-openssl\n');
    });
    expect(out).toContain('from-openssl');
  });

  it('rotates certificates without dropping an open connection; the next connection gets the new one', async () => {
    const { a, b } = await meshPair();
    const long = plainClient(a.port('outbound'));
    const echoes: string[] = [];
    long.on('data', (d) => echoes.push(d.toString()));
    long.write('before ');
    await new Promise((r) => setTimeout(r, 100));
    const before = await CertificateStore.open(dirs.server, { watch: false });
    const oldSerial = before.current.serialNumber;
    before.close();
    const store = await CertificateStore.open(dirs.server, { watch: false });
    const reissued = await pki.issue('server', 'web', 'server');
    expect(reissued).toBe(dirs.server);
    await new Promise((r) => setTimeout(r, 300)); // the sidecar's watcher picks the files up
    long.write('after');
    await new Promise((r) => setTimeout(r, 100));
    expect(echoes.join('')).toBe('before after');
    expect(b.logs).toContainEqual(expect.objectContaining({ msg: 'certificate rotated' }));
    const probe = tlsClient(b.port('inbound'), dirs.client);
    await new Promise((r) => probe.once('secureConnect', r));
    const newSerial = probe.getPeerCertificate().serialNumber;
    probe.destroy();
    expect(newSerial).not.toBe(oldSerial);
    await store.reload();
    expect(newSerial).toBe(store.current.serialNumber);
    store.close();
    long.destroy();
  });

  it('its admin endpoint shows /status (identity, listeners, open connections) and /config (certificate, bundle, policy)', async () => {
    const { a } = await meshPair();
    const admin = await startAdminServer(a.sidecar, { port: 0, host: LOCAL });
    cleanups.push(() => admin.close());
    const get = async (path: string) => (await fetch(`http://${LOCAL}:${admin.port}${path}`)).json();
    expect(await get('/status')).toMatchObject({
      id: 'sidecar',
      carrier: 'mtls',
      state: 'serving',
      spiffeId: a.sidecar.identity,
      listeners: expect.arrayContaining([expect.objectContaining({ role: 'outbound' })]),
      active: { inbound: 0, outbound: 0 },
    });
    const config = await get('/config');
    expect(config).toMatchObject({
      certificate: { spiffeId: a.sidecar.identity, serialNumber: expect.stringMatching(/^[0-9A-F]+$/) },
      trustBundle: [expect.objectContaining({ subject: expect.any(String) })],
      recentDenials: [],
    });
    expect(JSON.stringify(config)).not.toMatch(/PRIVATE KEY/);
  });

  it('drains on request: open connections finish, new ones are refused, readiness turns 503', async () => {
    const { a } = await meshPair();
    const admin = await startAdminServer(a.sidecar, { port: 0, host: LOCAL });
    cleanups.push(() => admin.close());
    const adminPort = admin.port;
    expect((await fetch(`http://${LOCAL}:${adminPort}/ready`)).status).toBe(200);
    const open = plainClient(a.port('outbound'));
    open.write('first half ');
    await new Promise((r) => setTimeout(r, 100));
    const drained = a.sidecar.drain(DRAIN_DEADLINE_MS);
    expect((await fetch(`http://${LOCAL}:${adminPort}/ready`)).status).toBe(503);
    const refused = await new Promise<string>((resolve) => {
      const s = plainClient(a.port('outbound'));
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      s.once('connect', () => resolve('connected'));
    });
    expect(refused).toBe('ECONNREFUSED');
    expect(await talk(open, 'second half')).toBe('first half second half');
    // The drain ends with its last connection, long before its deadline (no timing of the machine).
    const deadline = new Promise<string>((r) =>
      setTimeout(() => r('deadline'), DRAIN_DEADLINE_MS / 4).unref(),
    );
    expect(await Promise.race([drained.then(() => 'drained'), deadline])).toBe('drained');
    const metrics = await (await fetch(`http://${LOCAL}:${adminPort}/metrics`)).text();
    expect(metrics).toMatch(/switchyard_connections_total\{[^}]*direction="outbound",outcome="spliced"\} 1/);
  });

  it('refuses connections over the limit', async () => {
    const target = await app();
    const b = await sidecar({
      certDir: dirs.server,
      maxConnections: 1,
      inbound: {
        port: 0,
        host: LOCAL,
        plaintextSources: ['127.0.0.0/8'],
        fixedDestination: { address: LOCAL, port: target.port },
      },
    });
    const first = plainClient(b.port('inbound'));
    first.write('x');
    await new Promise((r) => setTimeout(r, 100));
    const second = await talk(plainClient(b.port('inbound')), 'y').catch(() => '');
    expect(second).toBe('');
    expect(await b.sidecar.metrics.registry.metrics()).toMatch(/outcome="refused"\} 1/);
    first.destroy();
  });
});
