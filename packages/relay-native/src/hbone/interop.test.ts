// hbone-native against independent HTTP/2 stacks in both roles: python3-h2 and Go's net/http
// (the HBONE package's interop peers). With the JavaScript hbone carrier: ../carrier/mixed-pair.test.ts.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loopbackSocketOps } from '@switchyard/core/memory';
import { CHANNELS, DataPlane, type Logger, silentLogger } from '@switchyard/dataplane';
import {
  dialOutbound,
  LOCAL,
  outboundVia,
  readAll,
  sendRandom,
  startApp,
  type TestApp,
} from '@switchyard/dataplane/testing';
import { buildGoPeer, type GoPeer, INTEROP_DIR } from '@switchyard/hbone/testing';
import { CertificateStore } from '@switchyard/mesh';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { describeRequiring } from '@switchyard/test-kit';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { RELAY_CHANNELS } from '../diagnostics.js';
import { createRelayEngine } from '../relay-engine.js';
import { hboneNativeCarrier } from './hbone-native-carrier.js';

const PYTHON = '/usr/bin/python3';
const run = promisify(execFile);

function missing(): string | undefined {
  try {
    execFileSync(PYTHON, ['-c', 'import h2'], { stdio: 'ignore' });
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'python3-h2 or golang-go is not installed (scripts/system-deps.sh installs both)';
  }
}
const why = missing();
describeRequiring(why, 'hbone-native interop (python3-h2, Go)', () => {
  let pki: TestPki;
  let dirs: { client: string; server: string; intruder: string };
  let goPeer: GoPeer;
  let app: TestApp;
  const cleanups: (() => unknown)[] = [];

  beforeAll(async () => {
    pki = await createTestPki();
    dirs = {
      client: await pki.issue('client', 'web'),
      server: await pki.issue('server', 'web'),
      intruder: await pki.issue('intruder', 'other'),
    };
    app = await startApp();
    goPeer = await buildGoPeer();
  }, 150_000);
  afterAll(async () => {
    await app.close();
    await pki.dispose();
    await goPeer.dispose();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const plane = () => {
    const p = new DataPlane({
      socketOps: loopbackSocketOps(),
      identityFallback: 'trust-domain',
      logger: silentLogger,
    });
    cleanups.push(() => p.close(0));
    return p;
  };

  /** A workload served by hbone-native on a loopback HBONE port (namespace web). */
  async function nativeServer(): Promise<number> {
    const status = await plane().addWorkload({
      id: 'server',
      identity: await CertificateStore.open(dirs.server, { watch: false }),
      carrier: hboneNativeCarrier(),
      policy: {
        ports: { hbone: 0 },
        inbound: { host: LOCAL }, // the default authorization: peers of our namespace (web)
      },
    });
    return status.listeners.find((l) => l.role === 'hbone')?.port ?? 0;
  }

  /** A workload whose outbound goes through hbone-native to the HBONE server at `peerPort`; returns its outbound port. */
  async function nativeClient(peerPort: number): Promise<number> {
    const status = await plane().addWorkload({
      id: 'client',
      identity: await CertificateStore.open(dirs.client, { watch: false }),
      carrier: hboneNativeCarrier(),
      policy: outboundVia(app.port, { address: LOCAL, port: peerPort }),
    });
    return status.listeners.find((l) => l.role === 'outbound')?.port ?? 0;
  }

  const python = async (port: number, certDir: string, authority: string, ...mode: string[]) => {
    const script = join(INTEROP_DIR, 'hbone_client.py');
    const { stdout } = await run(PYTHON, [script, LOCAL, String(port), certDir, authority, ...mode], {
      timeout: 20_000,
    });
    return JSON.parse(stdout);
  };

  /** Starts an independent HBONE server (python or Go); resolves with its port and the requests it saw. */
  async function peerServer(
    command: string,
    args: string[],
  ): Promise<{ port: number; seen: () => Record<string, string>[] }> {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => child.kill());
    const lines: string[] = [];
    let buffer = '';
    const first = new Promise<string>((resolve) =>
      child.stdout.on('data', (d) => {
        buffer += d.toString();
        const parts = buffer.split('\n');
        buffer = parts.pop() ?? '';
        lines.push(...parts);
        if (lines[0]) resolve(lines[0]);
      }),
    );
    const port = JSON.parse(await first).port as number;
    return { port, seen: () => lines.slice(1).map((l) => JSON.parse(l)) };
  }

  /** Sends through the client workload's outbound port; resolves with what came back. */
  async function through(outboundPort: number, bytes: number) {
    const s = dialOutbound(outboundPort);
    const echoed = readAll(s);
    const sent = await sendRandom(s, bytes);
    return { sent, got: await echoed };
  }

  it('serves python-h2: 200 with data both ways and half-close; 401, 503 and 400 as ztunnel answers', async () => {
    const port = await nativeServer();
    expect(await python(port, dirs.client, `${LOCAL}:${app.port}`, 'tunnel')).toEqual({
      status: 200,
      echo: 'hello from python-h2',
      ended: true,
      reset: null,
    });
    expect((await python(port, dirs.intruder, `${LOCAL}:${app.port}`, 'tunnel')).status).toBe(401);
    expect((await python(port, dirs.client, `${LOCAL}:1`, 'tunnel')).status).toBe(503);
    expect((await python(port, dirs.client, 'nonsense', 'tunnel')).status).toBe(400);
  });

  it("decides python-h2's streams on the engine and the data plane hears each: admitted and relayed, refused by authority and proxy port", async () => {
    const decided: unknown[] = [];
    const reports: Record<string, unknown>[] = [];
    const onDecided = (m: unknown) => decided.push(m);
    const onReport = (m: unknown) => reports.push(m as Record<string, unknown>);
    RELAY_CHANNELS.decidedStreams.subscribe(onDecided);
    subscribe(CHANNELS.connection, onReport);
    cleanups.push(() => {
      RELAY_CHANNELS.decidedStreams.unsubscribe(onDecided);
      unsubscribe(CHANNELS.connection, onReport);
    });
    const port = await nativeServer();
    expect((await python(port, dirs.client, `${LOCAL}:${app.port}`, 'tunnel')).status).toBe(200);
    expect((await python(port, dirs.client, '10.9.9.9:80', 'tunnel')).status).toBe(400);
    expect((await python(port, dirs.client, `${LOCAL}:${port}`, 'tunnel')).status).toBe(503);
    expect(decided).toMatchObject([
      { verdict: 'accepted', code: '', authority: `${LOCAL}:${app.port}` },
      { verdict: 'refused', code: 'not-this-workload', authority: '10.9.9.9:80' },
      { verdict: 'refused', code: 'proxy-port', authority: `${LOCAL}:${port}` },
    ]);
    const peer = expect.stringMatching(/\/ns\/web\/sa\/client$/);
    const inbound = () => reports.filter((r) => r.direction === 'inbound');
    await expect.poll(() => inbound().length).toBe(3);
    expect(inbound()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          outcome: 'spliced',
          peer,
          destination: `${LOCAL}:${app.port}`,
          forwardedFor: '192.0.2.10',
        }),
        expect.objectContaining({
          outcome: 'refused',
          code: 'not-this-workload',
          peer,
          destination: '10.9.9.9:80',
        }),
        expect.objectContaining({
          outcome: 'refused',
          code: 'proxy-port',
          peer,
          destination: `${LOCAL}:${port}`,
        }),
      ]),
    );
  });

  it("holds the engine's table to the data plane: a stream a wrong table admits is reset, reported as the data plane refuses it, and logged", async () => {
    // the data plane owns only 127.0.0.1 (where the connection arrives); a wrong table also owns
    // .2, whose app holds its tunnel open without a byte: only the data plane's reset ends it
    const elsewhere = createServer({ allowHalfOpen: true }, (c) => c.on('error', () => undefined).resume());
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.2', resolve));
    const elsewherePort = (elsewhere.address() as AddressInfo).port;
    const engine = createRelayEngine({ threads: 1 });
    const errors: string[] = [];
    const logger: Logger = { ...silentLogger, error: (msg) => errors.push(msg), child: () => logger };
    const reports: Record<string, unknown>[] = [];
    const onReport = (m: unknown) => reports.push(m as Record<string, unknown>);
    subscribe(CHANNELS.connection, onReport);
    const p = new DataPlane({ socketOps: loopbackSocketOps(), identityFallback: 'trust-domain', logger });
    cleanups.push(async () => {
      unsubscribe(CHANNELS.connection, onReport);
      await p.close(0);
      engine.close();
      elsewhere.close();
    });
    const status = await p.addWorkload({
      id: 'server',
      identity: await CertificateStore.open(dirs.server, { watch: false }),
      carrier: hboneNativeCarrier({ engine }),
      policy: { ports: { hbone: 0 }, inbound: { host: LOCAL } },
    });
    const port = status.listeners.find((l) => l.role === 'hbone')?.port ?? 0;
    // the data plane's own answer first (and the server's slot, the engine's first, filled)
    expect((await python(port, dirs.client, `127.0.0.2:${elsewherePort}`, 'tunnel')).status).toBe(400);
    engine.admission.set(1, {
      selfTrustDomain: 'cluster.local',
      rules: [{}],
      streams: {
        addresses: ['127.0.0.2'],
        proxyPorts: [],
        dial: { to: 'authority' },
        connectTimeoutMs: 5_000,
      },
    });
    const wrong = await python(port, dirs.client, `127.0.0.2:${elsewherePort}`, 'tunnel');
    expect(wrong.status).toBe(200); // the engine admitted and dialled at once...
    expect(wrong.reset).not.toBeNull(); // ...and the data plane's refusal reset it
    expect(errors).toContain('the admission table disagreed with the data plane on a stream');
    const refused = reports.filter((r) => r.direction === 'inbound' && r.code === 'not-this-workload');
    expect(refused).toHaveLength(2);
    expect(reports.some((r) => r.direction === 'inbound' && r.outcome === 'spliced')).toBe(false);
  });

  it('refuses python-h2 streams over its advertised limit of 100', async () => {
    const port = await nativeServer();
    const result = await python(port, dirs.client, `${LOCAL}:${app.port}`, 'flood', '150');
    expect(result.advertised).toBe(100);
    expect(result.ok).toBeLessThanOrEqual(100);
    expect(result.refused >= 50 || result.closed).toBe(true);
  });

  it("serves Go's net/http client", async () => {
    const port = await nativeServer();
    const { stdout } = await run(goPeer.binary, [`${LOCAL}:${port}`, dirs.client, `${LOCAL}:${app.port}`], {
      timeout: 20_000,
    });
    expect(JSON.parse(stdout)).toEqual({ status: 200, echo: 'hello from go' });
  });

  it.each([
    ['python3-h2', PYTHON, (dir: string) => [join(INTEROP_DIR, 'hbone_server.py'), dir]],
    ["Go's net/http", 'go-binary', (dir: string) => ['server', dir]],
  ] as [string, string, (dir: string) => string[]][])(
    'tunnels through a %s server: CONNECT with the HBONE headers, 1 MiB both ways',
    async (_name, command, args) => {
      const server = await peerServer(command === 'go-binary' ? goPeer.binary : command, args(dirs.server));
      const outbound = await nativeClient(server.port);
      const { sent, got } = await through(outbound, 1 << 20);
      expect(got.sha256).toBe(sent);
      const request = server.seen()[0] ?? {};
      const authority = request[':authority'] ?? request.authority;
      const method = request[':method'] ?? request.method;
      expect({ method, authority }).toEqual({ method: 'CONNECT', authority: `${LOCAL}:${app.port}` });
      expect(request.forwarded ?? request.Forwarded).toMatch(/^for="127\.0\.0\.1:\d+"$/);
    },
  );
});
