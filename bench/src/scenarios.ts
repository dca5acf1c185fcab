import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Started, start, startTogether, stopAll } from './processes.js';

/** What the measures connect to: iperf3's server (throughput) or the bench's sink (everything else). */
export type UpstreamKind = 'iperf' | 'sink';

/** A scenario's running path from client to server. */
export interface Running {
  /** Where the client connects. */
  entry: { host: string; port: number };
  /** The client runs inside this network namespace (captured scenarios). */
  clientNetns?: string;
  /** The proxies whose CPU and memory are measured. */
  proxies: Started[];
  close(): Promise<void>;
}

/** Everything scenarios share for one bench run. */
export interface BenchContext {
  work: string;
  /** Certificate directories of the two workloads, from the development CA. */
  certs: { client: string; server: string };
  /** Node executable and the bench's built files. */
  node: string;
  dist: string;
  /** Node flags for Switchyard's sidecar processes (e.g. --cpu-prof). */
  nodeFlags: string[];
}

/** The key exchange every TLS row pins, so connection rates compare the same handshake. */
export const PINNED_GROUP = 'X25519';
/** The post-quantum hybrid group of the separate post-quantum rows. */
export const PQ_GROUP = 'X25519MLKEM768';

/** One client → (proxies) → server path. */
export interface Scenario {
  name: string;
  description: string;
  /** The TLS pairs are the ones whose idle-connection memory is measured. */
  tlsPair: boolean;
  /** Descriptors a proxy holds per connection (default 2); idle counts are capped to fit the limit. */
  fdsPerConnection?: number;
  /** Why it cannot run here (a binary missing, no root), or undefined. */
  unavailable(): string | undefined;
  start(ctx: BenchContext, upstream: UpstreamKind): Promise<Running>;
}

// Fixed ports for the peers' configs, below the kernel's ephemeral range (32768+), so the
// thousands of client connections a run opens can never hold a port a listener needs.
let nextPort = 20000 + (process.pid % 300) * 40;
const port = () => {
  nextPort = nextPort >= 32000 ? 20000 : nextPort + 1;
  return nextPort;
};

const has = (cmd: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** Starts the server the measures need, on a fresh port, optionally inside a namespace. */
async function upstream(
  ctx: BenchContext,
  kind: UpstreamKind,
  netns?: string,
  host = '127.0.0.1',
): Promise<{ server: Started; port: number }> {
  const wrap = (cmd: string[]) => (netns ? ['ip', 'netns', 'exec', netns, ...cmd] : cmd);
  if (kind === 'iperf') {
    const p = port();
    const [cmd, ...args] = wrap(['iperf3', '-s', '--forceflush', '-B', host, '-p', String(p)]);
    return { server: await start('iperf3 server', cmd as string, args, /Server listening/), port: p };
  }
  const [cmd, ...args] = wrap([ctx.node, join(ctx.dist, 'sink-process.js'), host]);
  const server = await start('sink', cmd as string, args, /READY \d+/);
  return { server, port: Number(/READY (\d+)/.exec(server.output)?.[1]) };
}

async function sidecar(ctx: BenchContext, name: string, options: object): Promise<Started> {
  return start(
    name,
    ctx.node,
    [
      ...ctx.nodeFlags,
      join(ctx.dist, 'sidecar-process.js'),
      JSON.stringify({ groups: PINNED_GROUP, ...options }),
    ],
    /READY/,
  );
}

function haproxyConfig(file: string, lines: string[]): string {
  writeFileSync(
    file,
    [
      'global',
      '  log stdout format raw local0 emerg',
      'defaults',
      '  mode tcp',
      '  timeout connect 5s',
      '  timeout client 1h',
      '  timeout server 1h',
      ...lines,
      '',
    ].join('\n'),
  );
  return file;
}

function pem(dir: string): string {
  const combined = `${dir}.haproxy.pem`;
  if (!existsSync(combined)) {
    execFileSync('sh', [
      '-c',
      `cat "${dir}/cert-chain.pem" "${dir}/key.pem" > "${combined}" && chmod 600 "${combined}"`,
    ]);
  }
  return combined;
}

const local = (p: number) => ({ host: '127.0.0.1', port: p });

/** Why the native engine cannot run here, or undefined. */
function nativeUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'the native engine needs Linux';
  return nativeBuilt()
    ? undefined
    : 'the native engine is not built (pnpm --filter @switchyard/relay-native build:native)';
}

function nativeBuilt(): boolean {
  try {
    const entry = fileURLToPath(import.meta.resolve('@switchyard/relay-native'));
    return existsSync(join(dirname(entry), '..', 'build', 'Release', 'switchyard_relay.node'));
  } catch {
    return false;
  }
}

/**
 * JavaScript in the native processes only accepts, dials and decides: a 1 MB young generation is
 * plenty, and the default 16 MB one would be resident memory the idle rows count.
 */
const NATIVE_NODE_FLAGS = ['--max-semi-space-size=1'];

function nativeProcess(ctx: BenchContext, name: string, options: object): Promise<Started> {
  return start(
    name,
    ctx.node,
    [...NATIVE_NODE_FLAGS, ...ctx.nodeFlags, join(ctx.dist, 'native-process.js'), JSON.stringify(options)],
    /READY/,
  );
}

/** haproxy's OpenSSL version as it runs, e.g. [3, 0]; undefined when haproxy is missing. */
function haproxyOpenssl(): [number, number] | undefined {
  try {
    const out = execFileSync('haproxy', ['-vv'], { encoding: 'utf8' });
    const m = /Running on OpenSSL version : OpenSSL (\d+)\.(\d+)/.exec(out);
    return m ? [Number(m[1]), Number(m[2])] : undefined;
  } catch {
    return undefined;
  }
}

/** Starts one side of a native pair: the data plane with the mtls-native carrier, or the bare engine. */
function nativeSide(
  ctx: BenchContext,
  viaDataPlane: boolean,
  inbound: boolean,
  o: { certDir: string; port: number; upstreamPort: number; group: string },
): Promise<Started> {
  const name = `native ${inbound ? 'inbound' : 'outbound'}`;
  if (!viaDataPlane)
    return nativeProcess(ctx, name, {
      mode: inbound ? 'inbound' : 'outbound',
      certDir: o.certDir,
      port: o.port,
      upstreamPort: o.upstreamPort,
      groups: o.group,
    });
  const fixedDestination = { address: '127.0.0.1', port: o.upstreamPort };
  const policy = inbound
    ? { inbound: { port: o.port, host: '127.0.0.1', fixedDestination } }
    : { outbound: { port: o.port, host: '127.0.0.1', meshCidrs: ['127.0.0.0/8'], fixedDestination } };
  return start(
    name,
    ctx.node,
    [
      ...NATIVE_NODE_FLAGS,
      ...ctx.nodeFlags,
      join(ctx.dist, 'dataplane-process.js'),
      JSON.stringify({ certDir: o.certDir, groups: o.group, ...policy }),
    ],
    /READY/,
  );
}

/**
 * A native mTLS pair: plain in → mTLS → plain out. Through the data plane (like the `mtls` row,
 * with the mtls-native carrier), or the bare engine driven by a few lines of JavaScript.
 */
function nativePair(name: string, description: string, group: string, viaDataPlane: boolean): Scenario {
  return {
    name,
    description,
    tlsPair: true,
    // once relaying, the engine holds a connection's only descriptors (two a proxy), either way
    unavailable: nativeUnavailable,
    async start(ctx, kind) {
      const up = await upstream(ctx, kind);
      const [pa, pb] = [port(), port()];
      const [b, a] = await startTogether([
        nativeSide(ctx, viaDataPlane, true, {
          certDir: ctx.certs.server,
          port: pb,
          upstreamPort: up.port,
          group,
        }),
        nativeSide(ctx, viaDataPlane, false, {
          certDir: ctx.certs.client,
          port: pa,
          upstreamPort: pb,
          group,
        }),
      ]);
      return { entry: local(pa), proxies: [a, b], close: () => stopAll([a, b, up.server]) };
    },
  };
}

/**
 * An haproxy mTLS pair. haproxy 2.6 takes `curves` on bind lines only: the inbound side offers
 * nothing else, so the pair negotiates the group given.
 */
function haproxyPair(name: string, description: string, group: string): Scenario {
  return {
    name,
    description,
    tlsPair: true,
    unavailable: () => {
      if (!has('haproxy')) return 'haproxy is not installed (apt-get install haproxy)';
      const version = haproxyOpenssl();
      if (group === PQ_GROUP && (!version || version[0] < 3 || (version[0] === 3 && version[1] < 5)))
        return `haproxy runs on OpenSSL ${version?.join('.') ?? '?'}, which has no ${PQ_GROUP} (needs OpenSSL 3.5)`;
      return undefined;
    },
    async start(ctx, kind) {
      const up = await upstream(ctx, kind);
      const [pa, pb] = [port(), port()];
      const ca = join(ctx.certs.server, 'root-cert.pem');
      const cfgB = haproxyConfig(join(ctx.work, `in-${pb}.cfg`), [
        'listen inbound',
        `  bind 127.0.0.1:${pb} ssl crt ${pem(ctx.certs.server)} ca-file ${ca} verify required ssl-min-ver TLSv1.3 curves ${group}`,
        `  server app 127.0.0.1:${up.port}`,
      ]);
      const cfgA = haproxyConfig(join(ctx.work, `out-${pa}.cfg`), [
        'listen outbound',
        `  bind 127.0.0.1:${pa}`,
        `  server peer 127.0.0.1:${pb} ssl crt ${pem(ctx.certs.client)} ca-file ${ca} verify required ssl-min-ver TLSv1.3`,
      ]);
      const [b, a] = await startTogether([
        start('haproxy inbound', 'haproxy', ['-f', cfgB, '-db'], { listening: pb }),
        start('haproxy outbound', 'haproxy', ['-f', cfgA, '-db'], { listening: pa }),
      ]);
      return { entry: local(pa), proxies: [a, b], close: () => stopAll([a, b, up.server]) };
    },
  };
}

/** Every scenario, in the order the bench runs and reports them. */
export const SCENARIOS: Scenario[] = [
  {
    name: 'direct',
    description: 'client → server, no proxy (the physical reference)',
    tlsPair: false,
    unavailable: () => undefined,
    async start(ctx, kind) {
      const up = await upstream(ctx, kind);
      return { entry: local(up.port), proxies: [], close: () => stopAll([up.server]) };
    },
  },
  {
    name: 'relay',
    description: "one plain TCP hop through Switchyard's splice path",
    tlsPair: false,
    unavailable: () => undefined,
    async start(ctx, kind) {
      const up = await upstream(ctx, kind);
      const p = port();
      const relay = await sidecar(ctx, 'switchyard relay', {
        certDir: ctx.certs.client,
        outbound: {
          port: p,
          host: '127.0.0.1',
          meshCidrs: [],
          passthroughOutsideMesh: true,
          fixedDestination: { address: '127.0.0.1', port: up.port },
        },
      });
      return { entry: local(p), proxies: [relay], close: () => stopAll([relay, up.server]) };
    },
  },
  {
    name: 'relay-splice',
    description: "one plain TCP hop through the native engine's splice(2) relay",
    tlsPair: false,
    unavailable: nativeUnavailable,
    async start(ctx, kind) {
      const up = await upstream(ctx, kind);
      const p = port();
      const relay = await nativeProcess(ctx, 'native relay', {
        mode: 'relay',
        port: p,
        upstreamPort: up.port,
      });
      return { entry: local(p), proxies: [relay], close: () => stopAll([relay, up.server]) };
    },
  },
  {
    name: 'haproxy-relay',
    description: 'one plain TCP hop through haproxy (the relay baseline)',
    tlsPair: false,
    unavailable: () => (has('haproxy') ? undefined : 'haproxy is not installed (apt-get install haproxy)'),
    async start(ctx, kind) {
      const up = await upstream(ctx, kind);
      const p = port();
      const cfg = haproxyConfig(join(ctx.work, `relay-${p}.cfg`), [
        `listen relay`,
        `  bind 127.0.0.1:${p}`,
        `  server s 127.0.0.1:${up.port}`,
      ]);
      const relay = await start('haproxy relay', 'haproxy', ['-f', cfg, '-db'], { listening: p });
      return { entry: local(p), proxies: [relay], close: () => stopAll([relay, up.server]) };
    },
  },
  {
    name: 'mtls',
    description:
      'the Switchyard pair: outbound sidecar (plain in, mTLS out) → inbound sidecar (mTLS in, plain out)',
    tlsPair: true,
    unavailable: () => undefined,
    async start(ctx, kind) {
      const up = await upstream(ctx, kind);
      const [pa, pb] = [port(), port()];
      const [b, a] = await startTogether([
        sidecar(ctx, 'switchyard inbound', {
          certDir: ctx.certs.server,
          inbound: { port: pb, host: '127.0.0.1', fixedDestination: { address: '127.0.0.1', port: up.port } },
        }),
        sidecar(ctx, 'switchyard outbound', {
          certDir: ctx.certs.client,
          outbound: {
            port: pa,
            host: '127.0.0.1',
            meshCidrs: ['127.0.0.0/8'],
            fixedDestination: { address: '127.0.0.1', port: pb },
          },
        }),
      ]);
      return { entry: local(pa), proxies: [a, b], close: () => stopAll([a, b, up.server]) };
    },
  },
  nativePair(
    'mtls-native',
    'the mtls pair with the mtls-native carrier: the same data plane, handshakes and bytes on engine threads',
    PINNED_GROUP,
    true,
  ),
  nativePair(
    'mtls-engine',
    "the bare engine as an mTLS pair (no data plane): the engine's own ceiling",
    PINNED_GROUP,
    false,
  ),
  {
    name: 'hbone',
    description: 'the Switchyard pair over HBONE: plain in → HTTP/2 CONNECT over pooled mTLS → plain out',
    tlsPair: true,
    unavailable: () => undefined,
    async start(ctx, kind) {
      const up = await upstream(ctx, kind);
      const [pa, pb] = [port(), port()];
      const run = (name: string, options: object) =>
        start(
          name,
          ctx.node,
          [
            ...ctx.nodeFlags,
            join(ctx.dist, 'hbone-process.js'),
            JSON.stringify({ groups: PINNED_GROUP, ...options }),
          ],
          /READY/,
        );
      const [b, a] = await startTogether([
        run('hbone server', { mode: 'server', certDir: ctx.certs.server, port: pb, upstreamPort: up.port }),
        run('hbone client', {
          mode: 'client',
          certDir: ctx.certs.client,
          port: pa,
          hbonePort: pb,
          // The tunnel names the real target: an HBONE server never dials its own port.
          upstreamPort: up.port,
        }),
      ]);
      return { entry: local(pa), proxies: [a, b], close: () => stopAll([a, b, up.server]) };
    },
  },
  {
    name: 'hbone-native',
    description:
      'the HBONE pair with the hbone-native carrier: the same data plane, TLS, HTTP/2 and bytes on engine threads',
    tlsPair: true,
    unavailable: nativeUnavailable,
    async start(ctx, kind) {
      const up = await upstream(ctx, kind);
      const [pa, pb] = [port(), port()];
      const fixedDestination = { address: '127.0.0.1', port: up.port };
      const run = (name: string, options: object) =>
        start(
          name,
          ctx.node,
          [
            ...NATIVE_NODE_FLAGS,
            ...ctx.nodeFlags,
            join(ctx.dist, 'dataplane-process.js'),
            JSON.stringify({ carrier: 'hbone-native', groups: PINNED_GROUP, ...options }),
          ],
          /READY/,
        );
      const [b, a] = await startTogether([
        run('hbone-native server', {
          certDir: ctx.certs.server,
          ports: { hbone: pb },
          inbound: { host: '127.0.0.1', fixedDestination },
        }),
        // The tunnel names the real target: an HBONE server never dials its own port.
        run('hbone-native client', {
          certDir: ctx.certs.client,
          ports: {},
          outbound: { port: pa, host: '127.0.0.1', meshCidrs: ['127.0.0.0/8'], fixedDestination },
          routeTo: pb,
        }),
      ]);
      return { entry: local(pa), proxies: [a, b], close: () => stopAll([a, b, up.server]) };
    },
  },
  haproxyPair(
    'haproxy-mtls',
    'an haproxy mTLS pair with the same certificates, TLS 1.3, X25519',
    PINNED_GROUP,
  ),
  {
    name: 'stunnel-mtls',
    description: 'a stunnel mTLS pair with the same certificates, TLS 1.3, X25519',
    tlsPair: true,
    unavailable: () =>
      has('stunnel4') || has('stunnel') ? undefined : 'stunnel is not installed (apt-get install stunnel4)',
    async start(ctx, kind) {
      const up = await upstream(ctx, kind);
      const [pa, pb] = [port(), port()];
      const ca = join(ctx.certs.server, 'root-cert.pem');
      const conf = (file: string, lines: string[]) => {
        writeFileSync(file, ['foreground = yes', 'debug = 0', 'pid =', ...lines, ''].join('\n'));
        return file;
      };
      const cfgB = conf(join(ctx.work, `stunnel-in-${pb}.conf`), [
        '[in]',
        `accept = 127.0.0.1:${pb}`,
        `connect = 127.0.0.1:${up.port}`,
        `cert = ${join(ctx.certs.server, 'cert-chain.pem')}`,
        `key = ${join(ctx.certs.server, 'key.pem')}`,
        `CAfile = ${ca}`,
        'verifyChain = yes',
        'requireCert = yes',
        'sslVersionMin = TLSv1.3',
        `curves = ${PINNED_GROUP}`,
      ]);
      const cfgA = conf(join(ctx.work, `stunnel-out-${pa}.conf`), [
        '[out]',
        'client = yes',
        `accept = 127.0.0.1:${pa}`,
        `connect = 127.0.0.1:${pb}`,
        `cert = ${join(ctx.certs.client, 'cert-chain.pem')}`,
        `key = ${join(ctx.certs.client, 'key.pem')}`,
        `CAfile = ${ca}`,
        'verifyChain = yes',
        'sslVersionMin = TLSv1.3',
        `curves = ${PINNED_GROUP}`,
      ]);
      const bin = has('stunnel4') ? 'stunnel4' : 'stunnel';
      const [b, a] = await startTogether([
        start('stunnel inbound', bin, [cfgB], { listening: pb }),
        start('stunnel outbound', bin, [cfgA], { listening: pa }),
      ]);
      return { entry: local(pa), proxies: [a, b], close: () => stopAll([a, b, up.server]) };
    },
  },
  nativePair(
    'mtls-native-pq',
    `the mtls-native pair with the post-quantum hybrid ${PQ_GROUP}`,
    PQ_GROUP,
    true,
  ),
  haproxyPair('haproxy-mtls-pq', `the haproxy pair with ${PQ_GROUP}, when its OpenSSL has it`, PQ_GROUP),
  {
    name: 'mtls-captured',
    description: 'the mtls pair with real nftables capture in two network namespaces (capture cost included)',
    tlsPair: false,
    unavailable: () => {
      if (process.getuid?.() !== 0) return 'needs root (network namespaces, nftables)';
      return has('nft') && has('ip') ? undefined : 'needs nft and ip (scripts/system-deps.sh)';
    },
    async start(ctx, kind) {
      const id = `${process.pid % 10000}${port() % 100}`;
      const [A, B] = [`swy-bench-${id}-a`, `swy-bench-${id}-b`];
      const [ipA, ipB] = ['10.98.0.1', '10.98.0.2'];
      const started: Started[] = [];
      const cli = join(ctx.dist, '..', '..', 'apps', 'cli', 'dist', 'bin.js');
      const teardown = async () => {
        await stopAll(started);
        for (const ns of [A, B]) if (existsSync(`/run/netns/${ns}`)) execFileSync('ip', ['netns', 'del', ns]);
      };
      try {
        for (const ns of [A, B]) execFileSync('ip', ['netns', 'add', ns]);
        execFileSync('ip', [
          'link',
          'add',
          `vb${id}a`,
          'netns',
          A,
          'type',
          'veth',
          'peer',
          'name',
          `vb${id}b`,
          'netns',
          B,
        ]);
        for (const [ns, dev, ip] of [
          [A, `vb${id}a`, ipA],
          [B, `vb${id}b`, ipB],
        ] as const) {
          execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
          execFileSync('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', dev]);
          execFileSync('ip', ['-n', ns, 'link', 'set', dev, 'up']);
          execFileSync(ctx.node, [
            cli,
            'redirect',
            'apply',
            '--netns',
            ns,
            '--inbound-port',
            '--outbound-port',
            '--ipv4',
          ]);
        }
        const up = await upstream(ctx, kind, B, '0.0.0.0');
        started.push(up.server);
        for (const [ns, dir] of [
          [A, ctx.certs.client],
          [B, ctx.certs.server],
        ] as const) {
          started.push(
            await start(
              `switchyard sidecar ${ns}`,
              'ip',
              [
                'netns',
                'exec',
                ns,
                ctx.node,
                ...ctx.nodeFlags,
                cli,
                'proxy',
                'mtls',
                '--cert-dir',
                dir,
                '--mesh-cidr',
                '10.98.0.0/24',
                '--no-admin',
                '--drain-seconds',
                '0',
              ],
              /mtls sidecar started|workload serving/,
            ),
          );
        }
        return {
          entry: { host: ipB, port: up.port },
          clientNetns: A,
          proxies: started.slice(1),
          close: teardown,
        };
      } catch (error) {
        await teardown();
        throw error;
      }
    },
  },
];
