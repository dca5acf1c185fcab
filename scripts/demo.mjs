// The README's demo: two workloads in their own network namespaces, joined by a veth link,
// talk HTTP in plain text — and on the wire it is mutual TLS with SPIFFE identities, added
// transparently by Switchyard's capture and sidecars. Everything it makes it removes, also on
// Ctrl-C or failure. Needs root (namespaces, nftables); without it, says so.
//
//   node scripts/demo.mjs           human-readable steps
//   node scripts/demo.mjs --json    one JSON summary on stdout (the integration test reads it)
//   node scripts/demo.mjs --hbone   the same over HBONE (HTTP/2 CONNECT on 15008) instead of plain mTLS
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(repo, 'apps/cli/dist/bin.js');
const json = process.argv.includes('--json');
const hbone = process.argv.includes('--hbone');
const say = (text) => {
  if (!json) console.log(text);
};
const step = (text) => say(`\n\x1b[1m▶ ${text}\x1b[0m`);

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
const A = { ns: `swy-demo-${id}-a`, dev: `sd${id}a`, ip: '10.99.0.1' };
const B = { ns: `swy-demo-${id}-b`, dev: `sd${id}b`, ip: '10.99.0.2' };
const work = mkdtempSync(join(tmpdir(), 'swy-demo-'));
const children = [];
const marker = `PLAINTEXT-MARKER-${randomBytes(6).toString('hex')}`;

const sh = (...args) =>
  execFileSync(args[0], args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const inNs = (ns, ...args) => sh('ip', 'netns', 'exec', ns, ...args);
const cli = (...args) => sh(process.execPath, bin, ...args);

/** Starts a long-running process inside a namespace; resolves once `ready` matches its output. */
function startIn(ns, name, args, ready) {
  const child = spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const record = { name, child, output: '' };
  children.push(record);
  const onData = (d) => {
    record.output += d.toString();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${record.output}`)), 15_000);
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

let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const { child } of children.reverse()) if (child.exitCode === null) child.kill('SIGTERM');
  for (const host of [A, B]) {
    if (existsSync(`/run/netns/${host.ns}`)) {
      spawnSync(process.execPath, [bin, 'redirect', 'remove', '--netns', host.ns], { stdio: 'ignore' });
      spawnSync('ip', ['netns', 'del', host.ns]);
    }
  }
  rmSync(work, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    cleanup();
    process.exit(130);
  });
}

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

  step('Identities from a development CA (ECDSA P-256, SPIFFE IDs in the URI SAN)');
  cli('ca', 'init', '--dir', join(work, 'ca'), '--trust-domain', 'cluster.local');
  say(
    `  ${cli('ca', 'issue', '--dir', join(work, 'ca'), '--namespace', 'demo', '--service-account', 'client', '--out', join(work, 'a')).trim()}`,
  );
  say(
    `  ${cli('ca', 'issue', '--dir', join(work, 'ca'), '--namespace', 'demo', '--service-account', 'server', '--out', join(work, 'b')).trim()}`,
  );

  step('Capture both workloads with the tproxy driver (nftables TPROXY + policy routing)');
  // HBONE peers reach each other's 15008 directly, so inbound capture leaves it alone.
  const excluded = hbone
    ? ['--exclude-port', '15020', '--exclude-port', '15008']
    : ['--exclude-port', '15020'];
  for (const host of [A, B]) {
    cli('redirect', 'apply', '--netns', host.ns, '--inbound-port', '--outbound-port', ...excluded, '--ipv4');
    say(
      `  $ switchyard redirect apply --netns ${host.ns} --inbound-port --outbound-port ${excluded.join(' ')} --ipv4`,
    );
  }

  step(
    `Start each workload's ${hbone ? 'HBONE' : 'mTLS'} sidecar, and B's app (an HTTP server on :8080 that reports who called it)`,
  );
  const sidecar = (host) =>
    startIn(
      host.ns,
      `sidecar ${host.ns}`,
      [
        process.execPath,
        bin,
        'proxy',
        hbone ? 'hbone' : 'mtls',
        '--cert-dir',
        join(work, host === A ? 'a' : 'b'),
        '--mesh-cidr',
        '10.99.0.0/24',
        '--access-log',
        '--drain-seconds',
        '1',
      ],
      /workload serving/,
    );
  const [, sidecarB] = await Promise.all([sidecar(A), sidecar(B)]);
  const appSource = `require('node:http').createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ sawSource: req.socket.remoteAddress, marker: req.headers['x-marker'] }));
  }).listen(8080, '0.0.0.0', () => console.log('app listening'));`;
  await startIn(B.ns, 'app B', [process.execPath, '-e', appSource], /app listening/);
  const pcap = join(work, 'link.pcap');
  const capture = await startIn(
    B.ns,
    'tcpdump',
    ['tcpdump', '-Z', 'root', '--immediate-mode', '-i', B.dev, '-U', '-w', pcap, 'tcp'],
    /listening on/,
  );

  step(`A's app requests http://${B.ip}:8080/ in plain HTTP, with a marker in its headers`);
  const response = inNs(
    A.ns,
    'curl',
    '-sS',
    '--max-time',
    '10',
    '-H',
    `x-marker: ${marker}`,
    `http://${B.ip}:8080/`,
  );
  await new Promise((r) => setTimeout(r, 300));
  capture.child.kill('SIGINT');
  await new Promise((r) => capture.child.once('exit', r));

  const body = JSON.parse(response);
  const access = sidecarB.output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .find((l) => l.msg === 'connection' && l.direction === 'inbound' && l.outcome === 'spliced');
  const wire = readFileSync(pcap);
  const facts = {
    response: body,
    authorizedIdentity: access?.peer,
    // The data plane's access lines name the carrier.
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

  say(`  response from B's app:         ${response.trim()}`);
  say(`  identity B's sidecar authorized: ${facts.authorizedIdentity}`);
  say(`  source address B's app saw:    ${facts.appSawSource} (A's address, not a proxy's)`);
  say(
    `  on the link (tcpdump: ${facts.wire.packets} packets, ${wire.length} bytes): TLS records ${facts.wire.tlsRecordsSeen ? 'present' : 'MISSING'}, plaintext marker ${facts.wire.plaintextMarkerSeen ? 'VISIBLE' : 'not visible'}`,
  );
  const ok =
    body.marker === marker &&
    facts.authorizedIdentity === 'spiffe://cluster.local/ns/demo/sa/client' &&
    facts.appSawSource === A.ip &&
    facts.wire.tlsRecordsSeen &&
    !facts.wire.plaintextMarkerSeen;
  if (json) console.log(JSON.stringify({ ok, mode: hbone ? 'hbone' : 'mtls', a: A.ip, b: B.ip, ...facts }));
  step(
    ok
      ? 'Done: plain HTTP for the apps, mutual TLS on the wire. Cleaning up.'
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
