import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { loopbackSocketOps } from '@switchyard/core/memory';
import { CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import type { CarrierFactory } from '../carrier.js';
import type { WorkloadStatus } from '../data-plane.js';
import { DataPlane } from '../data-plane.js';
import type { Endpoint } from '../decide.js';
import type { Limits } from '../defaults.js';
import { silentLogger } from '../logger.js';
import type { InboundPolicy, WorkloadPolicy } from '../workload-policy.js';

/** The loopback address every suite socket uses. */
export const LOCAL = '127.0.0.1';

/** An app behind the server workload: echoes (or only sinks) and counts what it got. */
export interface TestApp {
  port: number;
  /** Bytes received, over every connection. */
  received(): number;
  /** Connections accepted. */
  readonly sockets: Socket[];
  /** Whether it echoes; set false to make it a sink that never reads (backpressure). */
  mode: 'echo' | 'stall' | 'sink';
  close(): Promise<void>;
}

/** Starts a {@link TestApp} on loopback. */
export async function startApp(): Promise<TestApp> {
  let received = 0;
  const sockets: Socket[] = [];
  const app: TestApp = {
    port: 0,
    received: () => received,
    sockets,
    mode: 'echo',
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    if (app.mode === 'stall') return s.pause();
    s.on('data', (d: Buffer) => {
      received += d.length;
      if (app.mode === 'echo') s.write(d);
    });
    // The echo app ends when its client does; the others leave their end to the test.
    s.on('end', () => app.mode === 'echo' && s.end());
  });
  await new Promise<void>((r) => server.listen(0, LOCAL, r));
  app.port = (server.address() as { port: number }).port;
  return app;
}

/**
 * The policy of a client workload on loopback: its outbound port (free) sends every connection
 * to the app on `appPort`, carried through `peer` (the server workload's carrier port).
 */
export function outboundVia(appPort: number, peer: Endpoint): WorkloadPolicy {
  return {
    ports: {},
    outbound: {
      port: 0,
      host: LOCAL,
      meshCidrs: ['127.0.0.0/8'],
      fixedDestination: { address: LOCAL, port: appPort },
      route: () => peer,
    },
  };
}

/** A client and a server workload, each in its own data plane, joined by one carrier. */
export interface CarrierPair {
  app: TestApp;
  client: DataPlane;
  server: DataPlane;
  serverStatus: WorkloadStatus;
  /** The client workload's captured-outbound port: connect here to go through both. */
  outboundPort: number;
  /** Rewrites the server's certificate files (same identity, new serial) and reloads. */
  rotateServer(): Promise<void>;
  dispose(): Promise<void>;
}

/** What {@link startPair} needs. */
export interface PairOptions {
  carrier: () => CarrierFactory;
  /** Where the client reaches the server workload (its mTLS inbound port, its HBONE port…). */
  route: (server: WorkloadStatus) => Endpoint;
  pki: TestPki;
  /** Server-side inbound policy additions (authorization…). */
  inbound?: Partial<InboundPolicy>;
  /** Route the client somewhere else (a plain server, to prove TLS never falls back). */
  routeTo?: Endpoint;
  handshakeTimeoutMs?: number;
  /** Limits of both data planes. */
  limits?: Partial<Limits>;
}

/** Builds a {@link CarrierPair} on loopback. */
export async function startPair(o: PairOptions): Promise<CarrierPair> {
  const app = await startApp();
  const serverDir = await o.pki.issue('suite-server', 'suite');
  const clientDir = await o.pki.issue('suite-client', 'suite');
  const serverIdentity = await CertificateStore.open(serverDir, { watch: false });
  const clientIdentity = await CertificateStore.open(clientDir, { watch: false });
  const timeouts = { handshake: o.handshakeTimeoutMs ?? 2_000, drain: 5_000 };
  const plane = () =>
    new DataPlane({
      socketOps: loopbackSocketOps(),
      identityFallback: 'trust-domain',
      logger: silentLogger,
      timeouts,
      ...(o.limits ? { limits: o.limits } : {}),
    });
  const server = plane();
  const client = plane();
  const serverStatus = await server.addWorkload({
    id: 'server',
    identity: serverIdentity,
    carrier: o.carrier(),
    policy: {
      inbound: { port: 0, host: LOCAL, fixedDestination: { address: LOCAL, port: app.port }, ...o.inbound },
      ports: { hbone: 0 },
    },
  });
  const peer = o.routeTo ?? o.route(serverStatus);
  const clientStatus = await client.addWorkload({
    id: 'client',
    identity: clientIdentity,
    carrier: o.carrier(),
    policy: outboundVia(app.port, peer),
  });
  return {
    app,
    client,
    server,
    serverStatus,
    outboundPort: clientStatus.listeners.find((l) => l.role === 'outbound')?.port ?? 0,
    async rotateServer() {
      await o.pki.issue('suite-server', 'suite');
      await serverIdentity.reload();
    },
    async dispose() {
      await Promise.all([client.close(0), server.close(0)]);
      serverIdentity.close();
      clientIdentity.close();
      await app.close();
    },
  };
}

/** A plain TCP client of the client workload's outbound port. */
export function dialOutbound(port: number): Socket {
  const s = connect({ port, host: LOCAL, allowHalfOpen: true });
  s.on('error', () => undefined);
  return s;
}

/** Streams `bytes` of random data into `socket`, ends it, and returns the sha256 of what was sent. */
export async function sendRandom(socket: Socket, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  const chunk = 1 << 20;
  for (let sent = 0; sent < bytes; sent += chunk) {
    const data = randomBytes(Math.min(chunk, bytes - sent));
    hash.update(data);
    if (!socket.write(data)) await new Promise((r) => socket.once('drain', r));
  }
  socket.end();
  return hash.digest('hex');
}

/** Reads `socket` to its end and returns the sha256 and byte count of what arrived. */
export function readAll(socket: Socket): Promise<{ sha256: string; bytes: number; error?: string }> {
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    let bytes = 0;
    let done = false;
    const finish = (error?: string) => {
      if (done) return;
      done = true;
      resolve({ sha256: hash.digest('hex'), bytes, ...(error ? { error } : {}) });
    };
    socket.on('data', (d: Buffer) => {
      hash.update(d);
      bytes += d.length;
    });
    socket.once('end', () => finish());
    socket.once('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
    socket.once('close', () => finish('closed'));
  });
}

/** Waits until `check` holds, polling every 20 ms, for at most `ms`. Returns whether it held. */
export async function eventually(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

export { createTestPki, type TestPki };
