// Test support: a `switchyard proxy mtls|hbone` process started through the CLI, as a user starts
// it, serving one workload in a network namespace with real capture rules, and attacked from a
// second namespace by independent implementations while a legitimate peer (Go's standard
// library) keeps opening new connections from another address beside every attack.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { PROXY_PORTS } from '@switchyard/core';
import { createLab, type Lab } from '@switchyard/driver-tproxy/testing';
import { createTestPki, type TestPki } from '@switchyard/mesh/testing';
import { repoRoot as repo } from '@switchyard/test-kit';
import { bin } from '../testing/cli-bin.js';
import { oneAttackAtATime } from './attack-lock.js';
import { APP_PORT, startApps } from './lab-app.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3'; // Debian's, which has python3-h2
const HBONE_CLIENT = resolve(repo, 'packages/hbone/interop/hbone_client.py');
const TCP_ATTACK = resolve(repo, 'tests/attack/tcp_attack.py');
const HOSTILE_UPSTREAM = resolve(repo, 'tests/attack/hostile_upstream.py');
const COLLECT = resolve(repo, 'tests/attack/collect-on-signal.mjs');
const GO_PEER = resolve(repo, 'packages/hbone/interop/go');

/** How the proxy under attack is started. */
export interface AttackLabOptions {
  /** `proxy mtls --engine`: `js` (the default) or `native`. */
  engine?: 'js' | 'native';
  /** `--admin-port`; default the well-known 15020. */
  adminPort?: number;
  /** Skip the first wave and the warm-up (suites that do not hold memory to a baseline). */
  light?: boolean;
  /** `--carrier` (e.g. `hbone-native` for `proxy hbone`); the proxy's own carrier when absent. */
  carrier?: string;
  /** More flags for the proxy, from the lab's addresses (e.g. `--mesh-cidr`). */
  proxyArgs?: (lab: Lab) => string[];
}

/** A process's memory (after a full garbage collection) and descriptors. */
export interface Footprint {
  /** Resident memory: the allocator's high-water mark as much as what is in use. */
  rssKb: number;
  /** What is alive after the collection: V8's heap plus memory outside it that JS objects hold (buffers, TLS). */
  liveKb: number;
  fds: number;
}

/** A peer process: what it printed once it stopped, and how to stop it early. */
export interface PeerRun<T> {
  done: Promise<T>;
  stop(): void;
}

/** What the steady legitimate peer measured. */
export interface SteadyTally extends LegitTally {
  pings: number;
  pingErrors: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
}

/** What the legitimate peer managed while an attack ran. */
export interface LegitTally {
  ok: number;
  tried: number;
  errors: Record<string, number>;
}

/** A proxy under attack, and the tools to attack it. */
export interface AttackLab {
  lab: Lab;
  pki: TestPki;
  /** Where the attacker aims: the HBONE listener, or the captured app address for mTLS. */
  target: { host: string; port: number };
  /** The app's address as the workload knows it. */
  authority: string;
  /** Certificate directories: an allowed peer, and a peer of another namespace (denied). */
  certs: { peer: string; denied: string };
  /** Connections the app accepted so far. */
  appConnections(): number;
  /** How the echo app's connections ended so far. */
  appEnds(): { clean: number; reset: number };
  /** The proxy's memory and descriptors now. */
  footprint(): Promise<Footprint>;
  /** The proxy's /metrics. */
  metrics(): Promise<string>;
  /** The proxy's admin port. */
  adminPort: number;
  /** The proxy's process id (for its CPU time). */
  pid: number;
  /**
   * The steady legitimate peer (an established connection pinged every 100 ms, a new connection
   * every `intervalMs`) from its own address, for at most `seconds`.
   */
  steady(seconds: number, intervalMs?: number): PeerRun<SteadyTally>;
  /** Adds `count` addresses to the attacker's namespace (10.x.y.10 up) and returns them. */
  sources(count: number): string[];
  /** SIGTERM to the proxy (it drains for its `--drain-seconds`, 1); resolves when it exited. */
  terminate(): Promise<void>;
  /** Lines the proxy wrote to standard error so far. */
  logLines(): number;
  /** Runs the Go peer (`hbone-go`) with `args` in the attacker's namespace and parses what it printed. */
  go(...args: string[]): Promise<Record<string, unknown>>;
  /** Runs a python attacker in the attacker's namespace and parses what it printed. */
  python(script: 'hbone' | 'tcp', ...args: string[]): Promise<Record<string, unknown>>;
  /**
   * Runs `tests/attack/hostile_upstream.py` in namespace `a` (upstreams: beside the attacker) or
   * `b` (a client of the proxy, captured on its way out) and parses what it printed.
   */
  upstream(where: 'a' | 'b', ...args: string[]): Promise<Record<string, unknown>>;
  /** Starts Go's HBONE server (`hbone-go server`) in namespace `a` on `at`; resolves with its stop. */
  goServer(certDir: string, at: string): Promise<() => void>;
  /** Runs a shell pipeline in namespace `a` until the returned stop is called (its whole group). */
  shell(script: string): () => void;
  /**
   * Runs `attack` while the legitimate peer opens new connections from another address; then
   * waits until the proxy's descriptors and live memory are back within 10 % of the baseline.
   */
  beside<T>(attack: () => Promise<T>): Promise<{ result: T; legit: LegitTally; after: Footprint }>;
  /** The footprint after the warm-up, that every attack is held to. */
  baseline: Footprint;
  close(): Promise<void>;
}

/**
 * Starts the lab: namespaces, capture, the app, certificates, the proxy through the CLI. Then
 * the legitimate peer warms the proxy up, `warmUp` runs a first wave of the attacks, and the
 * footprint after it becomes the baseline every later attack is held to: the first wave sizes
 * the allocator's arenas and V8's spaces once; what the baseline catches is memory or descriptors
 * that accumulate from one attack to the next.
 */
export async function startAttackLab(
  kind: 'mtls' | 'hbone',
  warmUp: (lab: AttackLab) => Promise<unknown>,
  options: AttackLabOptions = {},
): Promise<AttackLab> {
  const lab = createLab();
  const cleanup: (() => unknown)[] = [() => lab.destroy()];
  try {
    const attackLab = await assemble(kind, lab, cleanup, options);
    await oneAttackAtATime(() => warmUp(attackLab));
    await new Promise((r) => setTimeout(r, 1_000));
    attackLab.baseline = await attackLab.footprint();
    return attackLab;
  } catch (error) {
    for (const undo of cleanup.reverse()) await undo();
    throw error;
  }
}

async function assemble(
  kind: 'mtls' | 'hbone',
  lab: Lab,
  cleanup: (() => unknown)[],
  options: AttackLabOptions,
): Promise<AttackLab> {
  const adminPort = options.adminPort ?? PROXY_PORTS.admin;
  // The legitimate peer has an address of its own, so per-source caps on the attacker's
  // address never count its connections.
  const legitAddress = lab.a.v4.replace(/\.1$/, '.3');
  const device = lab.run(lab.a.name, 'ip', '-o', '-4', 'addr', 'show').match(/\d+: (\S+)\s+inet 10\./)?.[1];
  lab.run(lab.a.name, 'ip', 'addr', 'add', `${legitAddress}/24`, 'dev', device ?? '');
  const pki = await createTestPki();
  cleanup.push(() => pki.dispose());
  const work = await mkdtemp(join(tmpdir(), 'swy-attack-'));
  cleanup.push(() => rm(work, { recursive: true, force: true }));
  const goPeer = await buildGoPeer(work);
  const certs = { peer: await pki.issue('peer', 'web'), denied: await pki.issue('intruder', 'other') };
  const app = await startApps(lab);
  cleanup.push(() => app.close());
  const server = await pki.issue('server', 'web');
  const proxy = await startProxy(kind, lab, server, adminPort, options.engine, options.carrier, [
    ...(options.proxyArgs?.(lab) ?? []),
  ]);
  cleanup.push(() => proxy.stop());
  const target = kind === 'hbone' ? { host: lab.b.v4, port: 15008 } : { host: lab.b.v4, port: APP_PORT };
  const authority = `${lab.b.v4}:${APP_PORT}`;
  const peerArgs = [kind, `${target.host}:${target.port}`, certs.peer, authority, legitAddress];
  const legit = (seconds: number, most: number) => legitPeer(lab, goPeer, peerArgs, seconds, most);
  // Warm up (code paths compiled, pools sized), then take the baseline the attacks are held to.
  const warm = await legit(30, options.light ? 5 : 40).done;
  if (warm.ok !== warm.tried)
    throw new Error(`the legitimate peer failed before any attack: ${JSON.stringify(warm)}`);
  const attackLab: AttackLab = {
    lab,
    pki,
    target,
    authority,
    certs,
    baseline: await proxy.footprint(),
    appConnections: () => app.accepted(),
    appEnds: () => app.ends(),
    footprint: () => proxy.footprint(),
    metrics: () =>
      Promise.resolve(lab.run(lab.b.name, 'curl', '-sf', `http://127.0.0.1:${adminPort}/metrics`)),
    adminPort,
    pid: proxy.pid,
    steady: (seconds, intervalMs = 500) =>
      goPeerRun<SteadyTally>(lab, goPeer, ['steady-peer', ...peerArgs, `${seconds}`, `${intervalMs}`]),
    sources: (count) => addSources(lab, count),
    logLines: () => proxy.stderrLines(),
    terminate: () => proxy.stop(),
    python: (script, ...args) => python(lab, script === 'hbone' ? HBONE_CLIENT : TCP_ATTACK, args),
    upstream: (where, ...args) =>
      python(lab, HOSTILE_UPSTREAM, args, where === 'a' ? lab.a.name : lab.b.name),
    goServer: (certDir, at) => goServer(lab, goPeer, certDir, at),
    shell: (script) => shell(lab, script),
    go: (...args) => goPeerRun<Record<string, unknown>>(lab, goPeer, args).done,
    beside: (attack) =>
      oneAttackAtATime(async () => {
        const peer = legit(60, 200);
        const result = await attack().finally(() => peer.stop());
        const tally = await peer.done;
        const after = await settle(proxy, attackLab.baseline);
        return { result, legit: tally, after };
      }),
    async close() {
      for (const undo of cleanup.reverse()) await undo();
    },
  };
  return attackLab;
}

async function buildGoPeer(work: string): Promise<string> {
  const out = join(work, 'hbone-go');
  await run('go', ['build', '-o', out, '.'], {
    cwd: GO_PEER,
    env: { ...process.env, GO111MODULE: 'off', GOPROXY: 'off', GOFLAGS: '', GOCACHE: join(work, 'go-cache') },
    timeout: 120_000,
  });
  return out;
}

async function python(
  lab: Lab,
  script: string,
  args: string[],
  ns = lab.a.name,
): Promise<Record<string, unknown>> {
  const { stdout } = await run('ip', ['netns', 'exec', ns, PYTHON, script, ...args], {
    timeout: 60_000,
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout);
}

function legitPeer(lab: Lab, goPeer: string, args: string[], seconds: number, most: number) {
  return goPeerRun<LegitTally>(lab, goPeer, ['legit-peer', ...args, `${seconds}`, `${most}`]);
}

let added = 0;
function addSources(lab: Lab, count: number): string[] {
  const device = lab.run(lab.a.name, 'ip', '-o', '-4', 'addr', 'show').match(/\d+: (\S+)\s+inet 10\./)?.[1];
  const prefix = lab.a.v4.replace(/\.1$/, '.');
  const out: string[] = [];
  for (let i = 0; i < count; i += 1, added += 1) {
    const address = `${prefix}${10 + (added % 200)}`;
    if (added < 200) lab.run(lab.a.name, 'ip', 'addr', 'add', `${address}/24`, 'dev', device ?? '');
    out.push(address);
  }
  return out;
}

/** A shell pipeline in the attacker's namespace, in a process group of its own (stopped whole). */
function shell(lab: Lab, script: string): () => void {
  const child = spawn('ip', ['netns', 'exec', lab.a.name, 'sh', '-c', script], {
    stdio: 'ignore',
    detached: true,
  });
  child.on('error', () => undefined);
  return () => {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // already gone
    }
  };
}

/** Go's HBONE server in the attacker's namespace, listening once it printed its port. */
async function goServer(lab: Lab, goPeer: string, certDir: string, at: string): Promise<() => void> {
  const child = spawn('ip', ['netns', 'exec', lab.a.name, goPeer, 'server', certDir, at], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.resume();
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`hbone-go server exited (${code})`)));
    child.stdout.once('data', () => resolve());
  });
  return () => child.kill();
}

/** Runs the Go peer in the attacker's namespace; closing its stdin stops it early. */
function goPeerRun<T>(lab: Lab, goPeer: string, args: string[]): PeerRun<T> {
  const child = spawn('ip', ['netns', 'exec', lab.a.name, goPeer, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  const done = new Promise<T>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', () => {
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`the legitimate peer printed no result: ${out}`));
      }
    });
  });
  return { done, stop: () => child.stdin.end() };
}

/** Waits up to 20 s for descriptors and memory to come back within 10 % of the baseline. */
async function settle(proxy: ProxyProcess, baseline: Footprint): Promise<Footprint> {
  let now = await proxy.footprint();
  for (const until = Date.now() + 20_000; Date.now() < until; now = await proxy.footprint()) {
    if (now.fds <= baseline.fds * 1.1 && now.liveKb <= baseline.liveKb * 1.1) return now;
    await new Promise((r) => setTimeout(r, 250));
  }
  return now;
}

interface ProxyProcess {
  pid: number;
  stderrLines(): number;
  /** A full garbage collection in the proxy (see collect-on-signal.mjs), then its footprint. */
  footprint(): Promise<Footprint>;
  stop(): Promise<void>;
}

async function startProxy(
  kind: 'mtls' | 'hbone',
  lab: Lab,
  certDir: string,
  adminPort: number,
  engine: 'js' | 'native' = 'js',
  carrier?: string,
  more: string[] = [],
): Promise<ProxyProcess> {
  const args = ['proxy', kind, '--netns', lab.b.name, '--cert-dir', certDir, '--inbound-port', '15006'];
  args.push(...more);
  args.push('--admin-port', `${adminPort}`, '--drain-seconds', '1', '--access-log');
  if (engine === 'native') args.push('--engine', 'native');
  if (carrier !== undefined) args.push('--carrier', carrier);
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', '--import', COLLECT, bin, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let lines = 0;
  let tail = '';
  let collected: ((live: number) => void) | undefined;
  child.stderr?.on('data', (d: Buffer) => {
    const text = d.toString();
    const line = text.match(/^COLLECTED (.*)$/m)?.[1];
    if (line) {
      const usage = JSON.parse(line) as NodeJS.MemoryUsage;
      collected?.(usage.heapUsed + usage.external);
    }
    lines += text.split('\n').filter((l, i, all) => i < all.length - 1 && !l.startsWith('COLLECTED ')).length;
    tail = (tail + text).slice(-2000);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  for (const until = Date.now() + 15_000; ; await new Promise((r) => setTimeout(r, 100))) {
    if (child.exitCode !== null) throw new Error(`switchyard proxy ${kind} exited early: ${tail}`);
    if (Date.now() > until) {
      await stop();
      throw new Error(`switchyard proxy ${kind} was not ready in 15 s: ${tail}`);
    }
    try {
      lab.run(lab.b.name, 'curl', '-sf', `http://127.0.0.1:${adminPort}/readyz`);
      break;
    } catch {
      // not listening yet
    }
  }
  const pid = child.pid as number;
  const footprint = async (): Promise<Footprint> => {
    const live = new Promise<number>((r) => {
      collected = r;
    });
    child.kill('SIGUSR2');
    const liveKb = Math.round((await live) / 1024);
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? Number.NaN);
    return { rssKb, liveKb, fds: (await readdir(`/proc/${pid}/fd`)).length };
  };
  return { pid, stderrLines: () => lines, stop, footprint };
}
