// The README's demo: the node agent (switchyard-agent) on its embedded default, a workload file.
// It creates two network namespaces on a veth link, describes them as two workloads in a file,
// and starts ONE agent, which captures both and carries their traffic: the apps talk plain HTTP,
// on the wire it is mutual TLS (or HBONE) with SPIFFE identities, and the server app sees the
// client's real address. Then it kills the agent with -9 and restarts it (nothing duplicated,
// traffic flows again), removes one workload from the file (its rules go), and cleans up —
// also on Ctrl-C or failure. Needs root (namespaces, nftables); without it, says so.
//
//   node scripts/demo.mjs           human-readable steps
//   node scripts/demo.mjs --json    one JSON summary on stdout (the integration tests read it)
//   node scripts/demo.mjs --hbone   HBONE (HTTP/2 CONNECT on 15008) instead of plain mTLS
//   node scripts/demo.mjs --native  mTLS on the native relay engine (carrier mtls-native, Linux)
//   node scripts/demo.mjs --help    this usage, and nothing else
// Namespaces are named swy-demo-PID-a/-b; SWITCHYARD_DEMO_NETNS_PREFIX sets another prefix.
// Whatever ends it (Ctrl-C, a failure, a reader that closes its output: `| head`), it removes
// everything it made.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const cliBin = join(repo, 'apps/cli/dist/bin.js');
const agentBin = join(repo, 'apps/agent/dist/bin.js');
const USAGE = `Usage: node scripts/demo.mjs [--json] [--hbone | --native]   (or: sudo ./run demo …)

Two workloads in two network namespaces, one switchyard-agent capturing both: plain HTTP for the
apps, mutual TLS (--hbone: HBONE; --native: the native relay engine) on the wire. Needs root.
  --json     one JSON summary on stdout instead of the steps
  --hbone    carry the traffic over HBONE (HTTP/2 CONNECT on 15008)
  --native   mTLS on the native relay engine (carrier mtls-native)
  --help     this text
Environment: SWITCHYARD_DEMO_NETNS_PREFIX names its namespaces (default swy-demo-).
It removes everything it made, also on Ctrl-C, on failure, or when its output is cut (| head).`;
const FLAGS = ['--json', '--hbone', '--native', '--help', '-h'];
const args = process.argv.slice(2);
const unknown = args.filter((a) => !FLAGS.includes(a));
if (unknown.length > 0) {
  console.error(`demo: unknown argument ${JSON.stringify(unknown[0])}\n\n${USAGE}`);
  process.exit(2);
}
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const json = args.includes('--json');
const hbone = args.includes('--hbone');
const native = args.includes('--native');
const carrier = hbone ? 'hbone' : native ? 'mtls-native' : 'mtls';
/** Whether stdout still has a reader: after `| head` has read its lines, nothing more is written. */
let reader = true;
const say = (text) => {
  if (!json && reader) console.log(text);
};
const bold = process.stdout.isTTY ? (text) => `\x1b[1m${text}\x1b[0m` : (text) => text;
const step = (text) => say(`\n${bold(`▶ ${text}`)}`);

if (hbone && native) {
  console.error('The demo runs one carrier: --hbone or --native, not both.');
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error(
    'The Switchyard demo builds two network namespaces and programs nftables in them, which needs root.\n' +
      'Run it as root: sudo ./run demo   (or: sudo node scripts/demo.mjs after ./run build)',
  );
  process.exit(1);
}
for (const tool of ['nft', 'ip', 'curl', 'tcpdump']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(
      `The demo needs the ${tool} command: run scripts/system-deps.sh as root (./run demo does).`,
    );
    process.exit(1);
  }
}

const id = `${process.pid % 100000}`;
// Namespace names are global to the host: runs side by side (CI jobs, worktrees) can keep apart.
const PREFIX_ENV = 'SWITCHYARD_DEMO_NETNS_PREFIX';
const prefix = process.env[PREFIX_ENV] || 'swy-demo-';
const A = { ns: `${prefix}${id}-a`, dev: `sd${id}a`, ip: '10.99.0.1' };
const B = { ns: `${prefix}${id}-b`, dev: `sd${id}b`, ip: '10.99.0.2' };
const work = mkdtempSync(join(tmpdir(), 'swy-demo-'));
const config = join(work, 'agent.yaml');
const children = [];
const marker = `PLAINTEXT-MARKER-${randomBytes(6).toString('hex')}`;

const sh = (...args) =>
  execFileSync(args[0], args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const inNs = (ns, ...args) => sh('ip', 'netns', 'exec', ns, ...args);
const cli = (...args) => sh(process.execPath, cliBin, ...args);
const agentCli = (...args) => sh(process.execPath, agentBin, ...args, '--config', config);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts a long-running process (inside a namespace when `ns` is given); resolves once `ready` matches its output. */
function start(ns, name, args, ready) {
  const argv = ns ? ['ip', ['netns', 'exec', ns, ...args]] : [args[0], args.slice(1)];
  const child = spawn(argv[0], argv[1], { stdio: ['ignore', 'pipe', 'pipe'] });
  const record = { name, child, output: '' };
  children.push(record);
  const onData = (d) => {
    record.output += d.toString();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${record.output}`)), 20_000);
    const check = () => {
      if (ready.test(record.output)) {
        clearTimeout(timer);
        resolve(record);
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}):\n${record.output}`));
    });
  });
}

const startAgent = () =>
  start(
    undefined,
    'switchyard-agent',
    [process.execPath, agentBin, '--config', config],
    /"msg":"agent ready"/,
  );

/** What Switchyard holds in a namespace: its nft tables and policy-routing rules. */
const held = (ns) => ({
  tables: inNs(ns, 'nft', 'list', 'tables').trim().split('\n').filter(Boolean),
  rules: inNs(ns, 'ip', 'rule', 'list').trim().split('\n').length,
});

/** A's app asks B's app; resolves with the body, or undefined when the request fails. */
function request(seconds = 10) {
  try {
    return inNs(
      A.ns,
      'curl',
      '-sS',
      '--max-time',
      String(seconds),
      '-H',
      `x-marker: ${marker}`,
      `http://${B.ip}:8080/`,
    );
  } catch {
    return undefined;
  }
}

function writeWorkloads(hosts) {
  const lines = hosts.map(
    (h) => `  - { name: ${h.name}, namespace: demo, serviceAccount: ${h.name}, network: { netns: ${h.ns} } }`,
  );
  writeFileSync(`${join(work, 'workloads.yaml')}.next`, `workloads:\n${lines.join('\n')}\n`);
  renameSync(`${join(work, 'workloads.yaml')}.next`, join(work, 'workloads.yaml'));
}

async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const { child } of children.reverse()) if (child.exitCode === null) child.kill('SIGKILL');
  if (existsSync(config))
    spawnSync(process.execPath, [agentBin, '--uninstall', '--config', config], { stdio: 'ignore' });
  for (const host of [A, B])
    if (existsSync(`/run/netns/${host.ns}`)) spawnSync('ip', ['netns', 'del', host.ns]);
  rmSync(work, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    cleanup();
    process.exit(130);
  });
}
// A reader that went away (`| head`): stop writing, clean up, and end quietly.
process.stdout.on('error', (error) => {
  if (error.code !== 'EPIPE') throw error;
  reader = false;
  cleanup();
  process.exit(0);
});
// Whatever else ends the process, nothing it made stays (cleanup is synchronous).
process.on('exit', cleanup);

async function main() {
  step('Two workloads, A and B, each in its own network namespace on a veth link');
  for (const host of [A, B]) sh('ip', 'netns', 'add', host.ns);
  sh('ip', 'link', 'add', A.dev, 'netns', A.ns, 'type', 'veth', 'peer', 'name', B.dev, 'netns', B.ns);
  for (const host of [A, B]) {
    inNs(host.ns, 'ip', 'link', 'set', 'lo', 'up');
    inNs(host.ns, 'ip', 'addr', 'add', `${host.ip}/24`, 'dev', host.dev);
    inNs(host.ns, 'ip', 'link', 'set', host.dev, 'up');
  }
  say(`  A = ${A.ip} (${A.ns}), B = ${B.ip} (${B.ns})`);

  step('A development CA, and the agent config: the embedded default, a workload file');
  cli('ca', 'init', '--dir', join(work, 'ca'), '--trust-domain', 'cluster.local');
  writeFileSync(
    config,
    `# switchyard-agent: issue each workload's identity from this CA, carry the mesh over ${carrier}\n` +
      `identity: { caDir: ca }\ncarrier: ${carrier}\nmeshCidrs: [10.99.0.0/24]\nfamilies: [ipv4]\n` +
      `stateDir: state\nadmin: { port: ${await freePort()} }\ndrainSeconds: 1\nlog: { accessLog: true }\n`,
  );
  A.name = 'client';
  B.name = 'server';
  writeWorkloads([A, B]);
  say(readFileSync(config, 'utf8').replace(/^/gm, '  '));
  say(readFileSync(join(work, 'workloads.yaml'), 'utf8').replace(/^/gm, '  '));

  step('Start ONE agent for the node: it captures both namespaces and serves both workloads');
  let agent = await startAgent();
  say(agentCli('status').replace(/^/gm, '  '));

  step(
    `B's app (HTTP on :8080, reports who called it); tcpdump on B's link; A requests http://${B.ip}:8080/`,
  );
  const appSource = `require('node:http').createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ sawSource: req.socket.remoteAddress.replace('::ffff:', ''), marker: req.headers['x-marker'] }));
  }).listen(8080, '0.0.0.0', () => console.log('app listening'));`;
  await start(B.ns, 'app B', [process.execPath, '-e', appSource], /app listening/);
  const pcap = join(work, 'link.pcap');
  const capture = await start(
    B.ns,
    'tcpdump',
    ['tcpdump', '-Z', 'root', '--immediate-mode', '-i', B.dev, '-U', '-w', pcap, 'tcp'],
    /listening on/,
  );
  const response = request();
  await sleep(300);
  capture.child.kill('SIGINT');
  await new Promise((r) => capture.child.once('exit', r));
  const body = JSON.parse(response ?? '{}');
  const access = agent.output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .find(
      (l) =>
        l.msg === 'connection' &&
        l.workload === 'demo/server' &&
        l.direction === 'inbound' &&
        l.outcome === 'spliced',
    );
  const wire = readFileSync(pcap);
  const facts = {
    response: body,
    authorizedIdentity: access?.peer,
    carriedAs: access?.carrier,
    appSawSource: body.sawSource,
    wire: {
      bytes: wire.length,
      packets: Number(/(\d+) packets? captured/.exec(capture.output)?.[1] ?? 0),
      plaintextMarkerSeen: wire.includes(Buffer.from(marker)),
      tlsRecordsSeen:
        wire.includes(Buffer.from([0x17, 0x03, 0x03])) && wire.includes(Buffer.from([0x16, 0x03, 0x01])),
    },
  };
  say(`  response from B's app:           ${response?.trim()}`);
  say(`  identity the agent authorized:   ${facts.authorizedIdentity} (carried over ${facts.carriedAs})`);
  say(`  source address B's app saw:     ${facts.appSawSource} (A's address, not a proxy's)`);
  say(
    `  on the link (tcpdump: ${facts.wire.packets} packets, ${wire.length} bytes): TLS records ${facts.wire.tlsRecordsSeen ? 'present' : 'MISSING'}, plaintext marker ${facts.wire.plaintextMarkerSeen ? 'VISIBLE' : 'not visible'}`,
  );

  step('kill -9 the agent: the rules stay (fail closed), then restart it');
  const before = { a: held(A.ns), b: held(B.ns) };
  agent.child.kill('SIGKILL');
  await new Promise((r) => agent.child.once('exit', r));
  const whileDown = request(1);
  say(
    `  while no agent runs, A's request: ${whileDown === undefined ? 'refused (never sent in plaintext)' : 'ANSWERED'}`,
  );
  agent = await startAgent();
  const after = { a: held(A.ns), b: held(B.ns) };
  const again = request();
  const restart = {
    refusedWhileDown: whileDown === undefined,
    nothingDuplicated: JSON.stringify(before) === JSON.stringify(after),
    tables: after.a.tables.length + after.b.tables.length,
    flowsAgain: again !== undefined && JSON.parse(again).marker === marker,
  };
  say(
    `  after the restart: ${restart.tables} nft tables for 2 workloads, policy rules ${restart.nothingDuplicated ? 'unchanged' : 'CHANGED'}; A → B ${restart.flowsAgain ? 'flows again' : 'FAILS'}`,
  );

  step('Remove B from the workload file: its rules and listeners go');
  const removedAt = Date.now();
  writeWorkloads([A]);
  while (held(B.ns).tables.length > 0 && Date.now() - removedAt < 5000) await sleep(20);
  const removal = { rulesGone: held(B.ns).tables.length === 0, ms: Date.now() - removedAt };
  say(`  B's nft table gone after ${removal.ms} ms; A keeps its own: ${held(A.ns).tables.join(', ')}`);
  say(agentCli('status').replace(/^/gm, '  '));

  const ok =
    body.marker === marker &&
    facts.authorizedIdentity === 'spiffe://cluster.local/ns/demo/sa/client' &&
    facts.carriedAs === carrier &&
    facts.appSawSource === A.ip &&
    facts.wire.tlsRecordsSeen &&
    !facts.wire.plaintextMarkerSeen &&
    restart.refusedWhileDown &&
    restart.nothingDuplicated &&
    restart.flowsAgain &&
    removal.rulesGone;
  if (json)
    console.log(
      JSON.stringify({
        ok,
        mode: carrier,
        a: A.ip,
        b: B.ip,
        netns: [A.ns, B.ns],
        ...facts,
        restart,
        removal,
      }),
    );
  step(
    ok
      ? 'Done: plain HTTP for the apps, mutual TLS on the wire, one agent for the node. Cleaning up.'
      : 'Something did not hold; see above. Cleaning up.',
  );
  return ok;
}

main()
  .then((ok) => {
    cleanup();
    process.exit(ok ? 0 : 1);
  })
  .catch((error) => {
    console.error(`demo failed: ${error.message}`);
    for (const c of children) if (c.output) console.error(`--- ${c.name} ---\n${c.output.slice(-2000)}`);
    cleanup();
    process.exit(1);
  });
