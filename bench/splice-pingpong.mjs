// Round trip of a 1-byte ping-pong through the native engine's splice relay, against the same
// ping-pong straight to the echo server and through haproxy (when installed). The paths take
// turns in rounds, so all of them see the same load on a shared machine and the ratios compare
// like with like. The echo server and haproxy run in processes of their own; the engine relays in
// this one (JavaScript is idle while it relays).
// With --split the request is two 1-byte writes and the echo server answers once it holds both
// (a request in two pieces, like headers then body), and the relay's sockets keep Node's default
// (Nagle on) when they are handed to the engine: what the engine does about Nagle shows.
// Usage: node bench/splice-pingpong.mjs [round-trips-per-round=1000] [rounds=5] [--split]
// Needs the built addon: pnpm --filter @switchyard/relay-native build:native && pnpm turbo run build
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRelayEngine } from '@switchyard/relay-native';

const [count, rounds] = [process.argv[2] ?? 1000, process.argv[3] ?? 5].map(Number);
const split = process.argv.includes('--split');
const HOST = '127.0.0.1';

const ECHO = `const s=require('net').createServer({noDelay:true},c=>{let held=0;c.on('error',()=>c.destroy());
c.on('data',d=>{held+=d.length;if(held>=${split ? 2 : 1}){c.write(Buffer.alloc(held,120));held=0;}});});
s.listen(0,'${HOST}',()=>process.stdout.write(s.address().port+'\\n'));`;

async function startEcho() {
  const child = spawn(process.execPath, ['-e', ECHO], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(child.stdout, 'data');
  return { child, port: Number(String(line).trim()) };
}

function dial(port, noDelay = true) {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: HOST, noDelay });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function haproxyAvailable() {
  try {
    execFileSync('sh', ['-c', 'command -v haproxy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function startHaproxy(dir, upstream) {
  const listen = await new Promise((resolve) => {
    const probe = createServer().listen(0, HOST, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    [
      'defaults',
      '  mode tcp',
      '  timeout connect 5s',
      '  timeout client 1h',
      '  timeout server 1h',
      'listen relay',
      `  bind ${HOST}:${listen}`,
      `  server s ${HOST}:${upstream}`,
      '',
    ].join('\n'),
  );
  const child = spawn('haproxy', ['-f', cfg, '-db'], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const ok = await dial(listen).then(
      (s) => {
        s.destroy();
        return true;
      },
      () => false,
    );
    if (ok) return { child, port: listen };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('haproxy did not start');
}

/** `count` 1-byte round trips on one connection (after 100 to warm up); each in µs. */
async function pingPong(port) {
  const s = await dial(port);
  const times = [];
  const one = Buffer.from('x');
  for (let i = 0; i < count + 100; i++) {
    const t = process.hrtime.bigint();
    s.write(one);
    if (split) setImmediate(() => s.write(one)); // a second segment, after the first has left
    for (let got = 0; got < (split ? 2 : 1); ) got += (await once(s, 'data'))[0].length;
    if (i >= 100) times.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  s.destroy();
  return times;
}

const pct = (xs, p) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];

const echo = await startEcho();
const engine = createRelayEngine({ threads: 1 });
const relay = createServer({ pauseOnConnect: true, noDelay: !split }, async (a) => {
  a.on('error', () => a.destroy());
  engine.splice(a, await dial(echo.port, !split)).catch(() => a.destroy());
});
relay.listen(0, HOST);
await once(relay, 'listening');

const dir = mkdtempSync(join(tmpdir(), 'swy-pingpong-'));
const haproxy = haproxyAvailable() ? await startHaproxy(dir, echo.port) : undefined;
const paths = {
  direct: echo.port,
  engine: relay.address().port,
  ...(haproxy ? { haproxy: haproxy.port } : {}),
};
const samples = Object.fromEntries(Object.keys(paths).map((k) => [k, []]));
try {
  for (let r = 0; r < rounds; r++)
    for (const [name, port] of Object.entries(paths)) samples[name].push(...(await pingPong(port)));
  const p50 = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, pct(xs, 50)]));
  const added = (k) => p50[k] - p50.direct;
  for (const [k, xs] of Object.entries(samples)) {
    const extra = k === 'direct' ? '' : `, added ${added(k).toFixed(1)} µs`;
    process.stdout.write(
      `${k.padEnd(8)} p50 ${p50[k].toFixed(1)} µs, p99 ${pct(xs, 99).toFixed(1)} µs${extra}\n`,
    );
  }
  // a ratio of differences means nothing when haproxy's added time is lost in the noise
  const ratio =
    haproxy && added('haproxy') > 1 ? `${(added('engine') / added('haproxy')).toFixed(2)}×` : 'n/a';
  process.stdout.write(`engine / haproxy added round trip: ${ratio}\n`);
} finally {
  relay.close();
  engine.close();
  echo.child.kill();
  haproxy?.child.kill();
  rmSync(dir, { recursive: true, force: true });
}
