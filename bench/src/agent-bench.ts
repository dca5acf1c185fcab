import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initCa } from '@switchyard/mesh';
import { NAMESPACE_COUNT, namespace, pod, service, serviceId, slice } from './agent/cluster.js';
import { ListWatchServer } from './agent/list-watch-server.js';
import { cpuSeconds, rssMb } from './proc-stats.js';

/**
 * `pnpm bench:agent`: the built agent (kubernetes source, no pod on its own node) against this
 * benchmark's own list/watch server holding N realistic pods and M Services with one
 * EndpointSlice of 10 endpoints each. For each size it reports the time to ready, the agent's
 * RSS after sync, its CPU per EndpointSlice change, and the time from a change's watch event to
 * `status --service` showing it. `--sizes 3000:300,30000:3000` (the default).
 */
const AGENT = resolve(import.meta.dirname, '../../apps/agent/dist/bin.js');
const DOCKERFILE = resolve(import.meta.dirname, '../../deploy/kubernetes/Dockerfile');

/** The environment the agent's Linux image sets (`ENV K=V` lines): the agent is measured as it runs there. */
function imageEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [, key, value] of readFileSync(DOCKERFILE, 'utf8').matchAll(/^ENV (\w+)=(\S+)$/gm))
    if (key && value) env[key] = value;
  return env;
}
const CHANGES = 200;
/** Seconds after ready before RSS is read. */
const RSS_SETTLE_S = Number(process.env.BENCH_AGENT_SETTLE_S ?? 10);
const LATENCY_SAMPLES = 30;
const POD_CHANGES = 30;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Result {
  pods: number;
  services: number;
  readyS: number;
  rssMb: number;
  cpuMsPerChange: number;
  /** CPU per pod change (a label changed): only the changed pod is re-indexed. */
  cpuMsPerPodChange: number;
  latencyMs: { median: number; max: number };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function measure(pods: number, services: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'swy-bench-agent-'));
  const api = await new ListWatchServer().start();
  let agent: ChildProcess | undefined;
  try {
    fill(api, pods, services);
    await initCa({ dir: join(dir, 'ca'), trustDomain: 'cluster.local' });
    const admin = await freePort();
    writeFileSync(
      join(dir, 'kubeconfig'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'bench', cluster: { server: api.url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'agent', user: {} }],
        contexts: [{ name: 'bench', context: { cluster: 'bench', user: 'agent' } }],
        'current-context': 'bench',
      }),
    );
    writeFileSync(
      join(dir, 'agent.yaml'),
      JSON.stringify({
        node: 'bench-node-without-pods',
        source: { kind: 'kubernetes', kubeconfig: 'kubeconfig' },
        driver: 'memory',
        identity: { caDir: 'ca' },
        stateDir: 'state',
        admin: { port: admin },
        log: { level: process.env.BENCH_AGENT_LOG ?? 'warn' },
      }),
    );
    const base = `http://127.0.0.1:${admin}`;
    const started = performance.now();
    const nodeArgs = (process.env.BENCH_AGENT_NODE_ARGS ?? '').split(' ').filter(Boolean);
    agent = spawn(process.execPath, [...nodeArgs, AGENT, '--config', join(dir, 'agent.yaml')], {
      stdio: ['ignore', process.env.BENCH_AGENT_LOG ? 'inherit' : 'ignore', 'inherit'],
      env: { ...process.env, ...imageEnv() },
    });
    const pid = agent.pid as number;
    while (
      !(await fetch(`${base}/readyz`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (agent.exitCode !== null)
        throw new Error(`the agent exited (${agent.exitCode}) before it was ready`);
      await sleep(20);
    }
    const readyS = (performance.now() - started) / 1000;
    // RSS once the start's garbage had time to go: V8 gives memory back when the process is quiet.
    const rssSamples: number[] = [];
    for (let k = 0; k < RSS_SETTLE_S; k++) {
      await sleep(1000);
      rssSamples.push(rssMb(pid));
    }
    if (process.env.BENCH_AGENT_LOG)
      process.stderr.write(`RSS each second after ready: ${rssSamples.map((r) => r.toFixed(0)).join(' ')}\n`);
    const rss = rssSamples.at(-1) ?? Number.NaN;

    // CPU: CHANGES EndpointSlice changes, one every 20 ms; all the agent's CPU in that window is
    // counted against them (its idle CPU included: the figure errs high, never low).
    const from = cpuSeconds(pid);
    for (let c = 0; c < CHANGES; c++) {
      api.put('/apis/discovery.k8s.io/v1/endpointslices', slice(c % services, pods, c + 1, c % 2 === 0));
      await sleep(20);
    }
    await sleep(1000);
    const cpuMsPerChange = ((cpuSeconds(pid) - from) * 1000) / CHANGES;

    // Pod changes, one every 100 ms (each is folded into its own snapshot).
    const podFrom = cpuSeconds(pid);
    for (let c = 0; c < POD_CHANGES; c++) {
      const p = pod(c % pods);
      p.metadata.labels = { ...(p.metadata.labels as Record<string, string>), 'bench/generation': String(c) };
      api.put('/api/v1/pods', p);
      await sleep(100);
    }
    await sleep(1000);
    const cpuMsPerPodChange = ((cpuSeconds(pid) - podFrom) * 1000) / POD_CHANGES;

    // Change to effect: a slice's endpoint 0 turns not ready; time until `status --service` shows it.
    const latencies: number[] = [];
    for (let k = 0; k < LATENCY_SAMPLES; k++) {
      const j = (CHANGES + k) % services;
      const at = performance.now();
      api.put('/apis/discovery.k8s.io/v1/endpointslices', slice(j, pods, 1000 + k, true));
      for (;;) {
        const status = (await (
          await fetch(`${base}/status?service=${encodeURIComponent(serviceId(j))}`)
        ).json()) as {
          service?: { ports: { endpoints: { ready: boolean }[] }[] } | null;
        };
        if (status.service?.ports[0]?.endpoints.some((e) => !e.ready)) break;
        if (performance.now() - at > 30_000) throw new Error(`${serviceId(j)}: the change never showed`);
        await sleep(2);
      }
      latencies.push(performance.now() - at);
    }
    latencies.sort((a, b) => a - b);
    return {
      pods,
      services,
      readyS,
      rssMb: rss,
      cpuMsPerChange,
      cpuMsPerPodChange,
      latencyMs: {
        median: latencies[Math.floor(latencies.length / 2)] ?? Number.NaN,
        max: latencies.at(-1) ?? Number.NaN,
      },
    };
  } finally {
    agent?.kill('SIGKILL');
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function sizes(argv: string[]): [number, number][] {
  const at = argv.indexOf('--sizes');
  const text = at >= 0 ? (argv[at + 1] ?? '') : '3000:300,30000:3000';
  return text.split(',').map((pair) => {
    const [p, s] = pair.split(':').map(Number);
    if (!(Number.isInteger(p) && Number.isInteger(s) && (p as number) > 0 && (s as number) > 0))
      throw new Error(`--sizes: "${pair}" is not PODS:SERVICES`);
    return [p as number, s as number];
  });
}

/** `--serve PODS:SERVICES`: only the list/watch server with that cluster, until killed (to run an agent by hand). */
async function serve(pods: number, services: number): Promise<void> {
  const api = await new ListWatchServer().start();
  fill(api, pods, services);
  console.log(api.url);
  await new Promise(() => undefined);
}

function fill(api: ListWatchServer, pods: number, services: number): void {
  for (let n = 0; n < NAMESPACE_COUNT; n++) api.put('/api/v1/namespaces', namespace(n));
  for (let i = 0; i < pods; i++) api.put('/api/v1/pods', pod(i));
  for (let j = 0; j < services; j++) {
    api.put('/api/v1/services', service(j));
    api.put('/apis/discovery.k8s.io/v1/endpointslices', slice(j, pods));
  }
}

const serving = process.argv.indexOf('--serve');
if (serving >= 0) {
  const [[p, s]] = sizes(['--sizes', process.argv[serving + 1] ?? '']) as [[number, number]];
  await serve(p, s);
}
const rows: Result[] = [];
for (const [p, s] of sizes(process.argv.slice(2))) {
  process.stderr.write(`measuring ${p} pods, ${s} Services × 10 endpoints…\n`);
  rows.push(await measure(p, s));
}
console.log(
  '| cluster | ready after | RSS after sync | CPU per EndpointSlice change | change in effect (median / max) | CPU per pod change |',
);
console.log('|---|---|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.pods.toLocaleString('en')} pods, ${r.services.toLocaleString('en')} Services | ${r.readyS.toFixed(1)} s | ${r.rssMb.toFixed(0)} MB | ${r.cpuMsPerChange.toFixed(2)} ms | ${r.latencyMs.median.toFixed(0)} / ${r.latencyMs.max.toFixed(0)} ms | ${r.cpuMsPerPodChange.toFixed(1)} ms |`,
  );
