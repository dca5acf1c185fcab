// `pnpm bench [--quick] [--profile] [--only a,b]`: every scenario, every measure, in one run.
// Throughput uses iperf3 when installed (a C load generator that is not the bottleneck), else
// the built-in sender/sink; round trips, connection rate and idle connections use the built-in
// clients. Results go to the terminal and to bench/results/ as JSON, Markdown and SVG.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { initCa, issueWorkloadCertificate } from '@switchyard/mesh';
import { svgChart } from './chart.js';
import { bulkThroughput, connectionRate, type Dialer, idleConnections, roundTrips } from './load.js';
import { microBenchmarks } from './micro.js';
import { helpText, parseOptions } from './options.js';
import { cpuSeconds, rssMb } from './proc-stats.js';
import { type MachineInfo, markdownReport, terminalTable } from './report.js';
import type { ScenarioResult } from './scenario-result.js';
import { type BenchContext, type Running, SCENARIOS, type Scenario } from './scenarios.js';
import { median, percentile } from './stats.js';
import { checkTargets } from './targets.js';

const parsed = parseOptions(
  process.argv.slice(2),
  SCENARIOS.map((s) => s.name),
);
if (!parsed.ok) {
  process.stderr.write(`bench: ${parsed.error}\n\n${helpText(SCENARIOS.map((s) => s.name))}`);
  process.exit(2);
}
if (parsed.options.help) {
  process.stdout.write(helpText(SCENARIOS.map((s) => s.name)));
  process.exit(0);
}
const { quick, profile, only } = parsed.options;
const dist = import.meta.dirname;
const resultsDir = join(dist, '..', 'results');

const plan = quick
  ? // Under a minute on 2 cores: every row and column once, the shortest iperf3 run (1 s), and two
    // small idle counts (the slope between them is the memory per connection).
    { seconds: 1, runs: 1, roundTrips: 300, rateSeconds: 0.5, idle: [100, 400], settleMs: 200 }
  : // The machine's file limit (20000 here) caps a sidecar at ~9,000 proxied connections (two fds each).
    { seconds: 4, runs: 3, roundTrips: 3000, rateSeconds: 3, idle: [1000, 9000], settleMs: 500 };
if (parsed.options.idle) plan.idle = parsed.options.idle;

const hasIperf = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v iperf3'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** The open-file limit the bench's processes inherit: what caps idle connections per proxy. */
const fileLimit = (() => {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  } catch {
    return Number.NaN;
  }
})();

/** The plan's idle counts, capped where a scenario's descriptors per connection would exceed the limit. */
function idleCounts(scenario: Scenario): number[] {
  const cap = Number.isFinite(fileLimit)
    ? Math.floor((fileLimit - 1000) / (scenario.fdsPerConnection ?? 2))
    : Number.POSITIVE_INFINITY;
  return [...new Set(plan.idle.map((n) => Math.min(n, cap)))];
}

function progress(step: number, total: number, label: string): void {
  if (!process.stderr.isTTY) {
    process.stderr.write(`[${step}/${total}] ${label}\n`);
    return;
  }
  const width = 30;
  const filled = Math.round((width * step) / total);
  process.stderr.write(
    `\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${step}/${total} ${label}`,
  );
}

function iperf(entry: Running['entry'], streams: number, seconds: number, netns?: string): Promise<number> {
  const cmd = [
    ...(netns ? ['ip', 'netns', 'exec', netns] : []),
    'iperf3',
    '-c',
    entry.host,
    '-p',
    String(entry.port),
    '-t',
    String(seconds),
    '-P',
    String(streams),
    '-J',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0] as string, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 15) * 1000);
    child.once('exit', () => {
      clearTimeout(timer);
      try {
        const report = JSON.parse(out) as {
          end?: { sum_received?: { bits_per_second?: number } };
          error?: string;
        };
        const bps = report.end?.sum_received?.bits_per_second;
        if (bps) resolve(bps);
        else reject(new Error(report.error ?? 'iperf3 reported nothing'));
      } catch (error) {
        reject(error);
      }
    });
  });
}

/**
 * iperf3 serves one test at a time and says "busy" until it has let go of the last one (through a
 * proxy that can outlast the client's close): the next run waits for it, a bounded number of times.
 */
async function iperfWhenFree(
  entry: Running['entry'],
  streams: number,
  seconds: number,
  netns?: string,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await iperf(entry, streams, seconds, netns);
    } catch (error) {
      if (attempt >= 20 || !/busy/.test((error as Error).message)) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function dialerFor(running: Running): Promise<Dialer | undefined> {
  if (!running.clientNetns) return undefined;
  const { tproxyDriver } = await import('@switchyard/driver-tproxy');
  const ops = tproxyDriver().socketOps;
  const target = { kind: 'netns', name: running.clientNetns } as const;
  return async (host, port) => {
    const s = await ops.dial({ destination: { address: host, port }, mark: 0, target });
    s.setNoDelay(true);
    return s;
  };
}

/** One throughput measure: the median of runs, plus the proxies' CPU and the data moved over all runs. */
interface Throughput {
  gbps: number;
  cpuSeconds: number;
  gb: number;
}

/**
 * Throughput with 1 and with 8 streams through one start of the scenario (its processes and
 * namespaces are set up once for both): for each, the median of runs and the proxies' CPU.
 */
async function throughput(
  ctx: BenchContext,
  scenario: Scenario,
  onStreams: (streams: number) => void,
): Promise<{ one: Throughput; eight: Throughput }> {
  const running = await scenario.start(ctx, hasIperf ? 'iperf' : 'sink');
  try {
    const dial = await dialerFor(running);
    const measure = async (streams: number): Promise<Throughput> => {
      onStreams(streams);
      const samples: number[] = [];
      let cpu = 0;
      let bits = 0;
      for (let i = 0; i < plan.runs; i++) {
        const before = running.proxies.map((p) => cpuSeconds(p.pid));
        const bps = hasIperf
          ? await iperfWhenFree(running.entry, streams, plan.seconds, running.clientNetns)
          : await bulkThroughput(running.entry.port, streams, plan.seconds, running.entry.host, dial);
        cpu += running.proxies.reduce((sum, p, j) => sum + (cpuSeconds(p.pid) - (before[j] ?? 0)), 0);
        bits += bps * plan.seconds;
        samples.push(bps / 1e9);
      }
      return { gbps: median(samples), cpuSeconds: cpu, gb: bits / 8 / 1e9 };
    };
    return { one: await measure(1), eight: await measure(8) };
  } finally {
    await running.close();
  }
}

/**
 * The proxies' RSS with each count of idle connections open, counts in ascending order: the
 * connections held for one count stay open for the next, which adds only the difference (the
 * same measure as opening each count afresh, with fewer handshakes).
 */
async function idleMemory(
  running: Running,
  counts: readonly number[],
  dial: Dialer | undefined,
): Promise<ScenarioResult['idle']> {
  const held: { opened: number; close(): void }[] = [];
  const points: ScenarioResult['idle'] = [];
  try {
    for (const count of [...counts].sort((a, b) => a - b)) {
      const open = held.reduce((sum, h) => sum + h.opened, 0);
      held.push(await idleConnections(running.entry.port, count - open, running.entry.host, dial));
      await new Promise((r) => setTimeout(r, plan.settleMs));
      points.push({
        connections: held.reduce((sum, h) => sum + h.opened, 0),
        rssMb: Math.max(...running.proxies.map((p) => rssMb(p.pid))),
      });
    }
  } finally {
    for (const h of held) h.close();
  }
  return points;
}

async function negotiatedTls(ctx: BenchContext): Promise<string> {
  const mtls = SCENARIOS.find((s) => s.name === 'mtls') as Scenario;
  const running = await mtls.start(ctx, 'sink');
  try {
    const inbound = running.proxies[1];
    const port = Number(
      /"direction":"inbound","address":"[^"]+","port":(\d+)/.exec(inbound?.output ?? '')?.[1],
    );
    const s = tlsConnect({
      port,
      host: '127.0.0.1',
      cert: readFileSync(join(ctx.certs.client, 'cert-chain.pem')),
      key: readFileSync(join(ctx.certs.client, 'key.pem')),
      ca: readFileSync(join(ctx.certs.client, 'root-cert.pem')),
      checkServerIdentity: () => undefined,
    });
    return await new Promise<string>((resolve) => {
      s.once('secureConnect', () => {
        const cipher = s.getCipher();
        const key = s.getEphemeralKeyInfo() as { name?: string };
        resolve(
          `${s.getProtocol()} ${cipher.standardName}, ${key.name ?? ''} key exchange, ECDSA P-256 certificates`,
        );
        s.destroy();
      });
      s.once('error', (e) => resolve(`unknown (${e.message})`));
    });
  } finally {
    await running.close();
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'swy-bench-'));
  const profileDir = join(resultsDir, 'profiles');
  if (profile) mkdirSync(profileDir, { recursive: true });
  try {
    await initCa({ dir: join(work, 'ca'), trustDomain: 'cluster.local' });
    const certs = {
      client: (
        await issueWorkloadCertificate({
          caDir: join(work, 'ca'),
          namespace: 'bench',
          serviceAccount: 'client',
          outDir: join(work, 'client'),
        })
      ).dir,
      server: (
        await issueWorkloadCertificate({
          caDir: join(work, 'ca'),
          namespace: 'bench',
          serviceAccount: 'server',
          outDir: join(work, 'server'),
        })
      ).dir,
    };
    const ctx: BenchContext = {
      work,
      certs,
      node: process.execPath,
      dist,
      nodeFlags: profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    };
    const machine: MachineInfo = {
      date: new Date().toISOString(),
      cores: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      openssl: process.versions.openssl ?? 'unknown',
      tls: await negotiatedTls(ctx),
      load: hasIperf
        ? 'iperf3 for throughput, built-in clients otherwise'
        : 'built-in sender/sink (install iperf3 for a C load generator)',
      mode: quick ? 'quick' : 'full',
    };
    process.stderr.write(
      `Switchyard bench (${machine.mode}): ${machine.cores} cores, Node ${machine.node}, OpenSSL ${machine.openssl}, ${machine.tls}\n`,
    );

    const scenarios = SCENARIOS.filter((s) => !only || only.includes(s.name));
    const results: ScenarioResult[] = [];
    const steps = scenarios.length * 5;
    let step = 0;
    for (const scenario of scenarios) {
      const base: ScenarioResult = {
        scenario: scenario.name,
        description: scenario.description,
        status: 'ok',
        throughput1Gbps: Number.NaN,
        throughput8Gbps: Number.NaN,
        rttP50Us: Number.NaN,
        rttP99Us: Number.NaN,
        addedRttP50Us: Number.NaN,
        connectionsPerSecond: Number.NaN,
        cpuMsPerConnection: Number.NaN,
        cpuSecondsPerGB: Number.NaN,
        idle: [],
      };
      const why = scenario.unavailable();
      if (why) {
        results.push({ ...base, status: 'skipped', note: why });
        step += 5;
        continue;
      }
      try {
        const { one, eight } = await throughput(ctx, scenario, (streams) =>
          progress(++step, steps, `${scenario.name}: throughput, ${streams} stream${streams > 1 ? 's' : ''}`),
        );
        base.throughput1Gbps = one.gbps;
        base.throughput8Gbps = eight.gbps;
        base.cpuSecondsPerGB =
          scenario.name === 'direct' ? Number.NaN : (one.cpuSeconds + eight.cpuSeconds) / (one.gb + eight.gb);

        const running = await scenario.start(ctx, 'sink');
        try {
          const dial = await dialerFor(running);
          progress(++step, steps, `${scenario.name}: round trips`);
          const rtts = await roundTrips(running.entry.port, plan.roundTrips, 64, running.entry.host, dial);
          base.rttP50Us = percentile(rtts, 50);
          base.rttP99Us = percentile(rtts, 99);
          progress(++step, steps, `${scenario.name}: new connections`);
          const cpuBefore = running.proxies.map((p) => cpuSeconds(p.pid));
          const rate = await connectionRate(
            running.entry.port,
            plan.rateSeconds,
            8,
            running.entry.host,
            dial,
          );
          const cpu = running.proxies.reduce(
            (sum, p, j) => sum + (cpuSeconds(p.pid) - (cpuBefore[j] ?? 0)),
            0,
          );
          base.connectionsPerSecond = rate.perSecond;
          base.cpuMsPerConnection = running.proxies.length ? (cpu * 1000) / rate.connections : Number.NaN;
          progress(++step, steps, `${scenario.name}: idle connections`);
          if (scenario.tlsPair) base.idle = await idleMemory(running, idleCounts(scenario), dial);
        } finally {
          await running.close();
        }
        results.push(base);
      } catch (error) {
        results.push({ ...base, status: 'failed', note: (error as Error).message.split('\n')[0] });
      }
    }
    const direct = results.find((r) => r.scenario === 'direct');
    for (const r of results) if (direct) r.addedRttP50Us = r.rttP50Us - direct.rttP50Us;
    if (process.stderr.isTTY) process.stderr.write('\n');

    mkdirSync(resultsDir, { recursive: true });
    const stamp = machine.date.replace(/[:.]/g, '-');
    const chart = `bench-${stamp}.svg`;
    writeFileSync(join(resultsDir, chart), svgChart(results, machine));
    writeFileSync(
      join(resultsDir, `bench-${stamp}.json`),
      `${JSON.stringify({ machine, plan, results, targets: checkTargets(results) }, null, 2)}\n`,
    );
    writeFileSync(join(resultsDir, `bench-${stamp}.md`), markdownReport(machine, results, chart));
    process.stdout.write(`\n${terminalTable(results)}\n\nTargets (ratios from this run):\n`);
    for (const t of checkTargets(results))
      process.stdout.write(`  ${t.met === undefined ? '·' : t.met ? '✓' : '✗'} ${t.target}: ${t.value}\n`);
    process.stdout.write('\nMicro (single functions; also pnpm bench:micro):\n');
    for (const row of microBenchmarks()) process.stdout.write(`  ${row.measure}: ${row.ms.toFixed(0)} ms\n`);
    process.stdout.write(
      `\nReport: bench/results/bench-${stamp}.md${profile ? ` (CPU profiles in bench/results/profiles/)` : ''}\n`,
    );
    const missing = results.filter((r) => r.status === 'failed');
    if (missing.length > 0) {
      process.stderr.write(
        `bench: ${missing.length} scenario(s) failed: ${missing.map((r) => `${r.scenario} (${r.note})`).join('; ')}\n`,
      );
      process.exitCode = 1;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
