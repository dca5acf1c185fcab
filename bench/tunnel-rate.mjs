// New tunnels per second through the bench's hbone-native pair (the same processes and options as
// its `hbone-native` row), for longer than `--quick` measures them, optionally with CPU profiles
// of both proxies: where a tunnel's time goes. The pair, the sink and the load run as the bench
// runs them; the load is 8 clients that each connect, write 2 bytes, wait for the echo, close.
// Usage: node bench/tunnel-rate.mjs [seconds=5] [rounds=3] [--prof=DIR]
// Needs the built workspace: pnpm --filter @switchyard/relay-native build:native && pnpm turbo run build
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCa, issueWorkloadCertificate } from '@switchyard/mesh';

const [seconds, rounds] = [process.argv[2] ?? 5, process.argv[3] ?? 3].map(Number);
const prof = process.argv.find((a) => a.startsWith('--prof='))?.slice(7);
const dist = join(import.meta.dirname, 'dist');
const work = mkdtempSync(join(tmpdir(), 'swy-tunnel-rate-'));
const children = [];

/** The bench's connection-rate load (load.ts): 8 clients, each connect, 'Ex', the echo, close. */
async function connectionRate(port, secs) {
  const deadline = Date.now() + secs * 1000;
  const started = Date.now();
  let done = 0;
  const one = () =>
    new Promise((resolve) => {
      const s = connect({ port, host: '127.0.0.1', noDelay: true });
      s.once('connect', () => s.write('Ex'));
      s.once('data', () => {
        done += 1;
        s.destroy();
        resolve();
      });
      s.once('error', resolve);
      s.once('close', resolve);
    });
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (Date.now() < deadline) await one();
    }),
  );
  return done / ((Date.now() - started) / 1000);
}

/** CPU ms of each process's threads, by thread name (the engine's are swy-engine-N). */
function threadCpu(named) {
  const out = {};
  for (const [name, pid] of Object.entries(named))
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = /\((.*)\)/.exec(stat)?.[1] ?? '?';
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const key = `${name}/${comm.startsWith('swy-engine') ? 'engine' : comm}`;
      out[key] = (out[key] ?? 0) + ((Number(f[11]) + Number(f[12])) * 1000) / 100;
    }
  return out;
}

function start(args, ready) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = ready.exec(out);
      if (m) resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`${args.at(-2)} exited ${code}: ${out}`)));
  });
}

try {
  await initCa({ dir: join(work, 'ca'), trustDomain: 'cluster.local' });
  const issue = async (sa) =>
    (
      await issueWorkloadCertificate({
        caDir: join(work, 'ca'),
        namespace: 'bench',
        serviceAccount: sa,
        outDir: join(work, sa),
      })
    ).dir;
  const [client, server] = [await issue('client'), await issue('server')];
  const sink = Number((await start([join(dist, 'sink-process.js'), '127.0.0.1'], /READY (\d+)/))[1]);
  // below the ephemeral range: a loaded machine holds thousands of connections there
  const [pa, pb] = [10_000 + Math.floor(Math.random() * 10_000), 20_000 + Math.floor(Math.random() * 10_000)];
  const fixedDestination = { address: '127.0.0.1', port: sink };
  const proxy = (o) =>
    start(
      [
        '--max-semi-space-size=1',
        ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []),
        join(dist, 'dataplane-process.js'),
        JSON.stringify({ carrier: 'hbone-native', groups: 'X25519', ...o }),
      ],
      /READY/,
    );
  await proxy({ certDir: server, ports: { hbone: pb }, inbound: { host: '127.0.0.1', fixedDestination } });
  await proxy({
    certDir: client,
    ports: {},
    outbound: { port: pa, host: '127.0.0.1', meshCidrs: ['127.0.0.0/8'], fixedDestination },
    routeTo: pb,
  });
  await connectionRate(pa, 0.5); // the pooled connection, opened once
  const named = {
    sink: children[0].pid,
    server: children[1].pid,
    client: children[2].pid,
    load: process.pid,
  };
  for (let i = 0; i < rounds; i++) {
    const before = threadCpu(named);
    const started = Date.now();
    const rate = await connectionRate(pa, seconds);
    const after = threadCpu(named);
    const tunnels = (rate * (Date.now() - started)) / 1000;
    const perTunnel = Object.entries(after)
      .map(([k, v]) => [k, ((v - (before[k] ?? 0)) * 1000) / tunnels])
      .filter(([, us]) => us >= 1)
      .map(([k, us]) => `${k} ${us.toFixed(0)}`);
    console.log(`tunnels/s ${rate.toFixed(0)}; CPU µs per tunnel: ${perTunnel.join(', ')}`);
  }
} finally {
  for (const c of children) c.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  rmSync(work, { recursive: true, force: true });
}
