import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';

/** The image every lab container runs: busybox (static) and the proxy script. */
export const LAB_IMAGE = 'sy13-busybox:local';
/** The lab's Docker network and its Linux bridge (names start with sy13: they are host-global). */
export const LAB_NETWORK = { name: 'sy13net', bridge: 'sy13br0', subnet: '10.213.0.0/24' };
/** The stand-in metadata server's namespace and the host side of its link. */
export const LAB_METADATA = {
  netns: 'sy13md',
  hostLink: 'sy13md0',
  hostAddress: '10.213.9.1',
  nsAddress: '10.213.9.2',
};
const ROUTE_TABLE = '213';

/** The host-global names of one Docker lab; two labs with different names can run at once. */
export interface DockerLabNames {
  image: string;
  network: { name: string; bridge: string; subnet: string };
  metadata: { netns: string; hostLink: string; hostAddress: string; nsAddress: string };
  /** The policy-routing table that sends the lab's metadata traffic to its stand-in. */
  table: string;
}

/** The default lab's names. */
export const SY13_LAB: DockerLabNames = Object.freeze({
  image: LAB_IMAGE,
  network: LAB_NETWORK,
  metadata: LAB_METADATA,
  table: ROUTE_TABLE,
});

/** How a lab's dockerd is made. */
export interface DockerLabOptions {
  /** Its host-global names. Default {@link SY13_LAB}. */
  names?: DockerLabNames;
  /** dockerd's `daemon.json` (e.g. `runtimes`). Default empty. */
  daemon?: Record<string, unknown>;
}

/** Why the Docker lab cannot run here, or undefined when it can. */
export function dockerLabUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'it needs Linux';
  if (process.getuid?.() !== 0) return 'it needs root (dockerd, namespaces, nftables); run with sudo';
  for (const tool of ['dockerd', 'busybox', 'nft', 'ip', 'nsenter'])
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `the ${tool} command is missing (scripts/system-deps.sh installs docker.io, busybox-static, nftables)`;
    }
  return undefined;
}

/** A dockerd of the test's own, with the lab image, network and a stand-in metadata server. */
export interface DockerLab {
  dir: string;
  socket: string;
  docker: Dockerode;
  destroy(): Promise<void>;
}

function run(program: string, ...args: string[]): string {
  return execFileSync(program, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function quiet(program: string, ...args: string[]): void {
  try {
    run(program, ...args);
  } catch {
    // teardown of something that may already be gone
  }
}

/**
 * The proxy container's program (it speaks HTTP with nc: the static busybox's wget crashes
 * without a C library's name-service files in the image): answers each request by fetching the same path from the
 * metadata endpoint and marking the response with `$MARK` (a header and a suffix).
 */
const PROXY_SCRIPT = `#!/bin/sh
read -r method path version
while read -r line; do [ "$(printf '%s' "$line" | tr -d '\\r')" = "" ] && break; done
body=$(printf 'GET %s HTTP/1.0\r\n\r\n' "$path" | nc -w 3 169.254.169.254 80 | tr -d '\r' | sed '1,/^$/d')
printf 'HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\nX-Proxied-By: %s\\r\\n\\r\\n%s via %s\\n' "$MARK" "$body" "$MARK"
`;

/** `GET /cgi-bin/caller` of `httpd -f -p 80 -h /www`: the address the request came from. */
const CALLER_SCRIPT = `#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\ncaller %s\\n' "$REMOTE_ADDR"
`;

/** Builds the lab image's root file system and imports it (`POST /images/create?fromSrc`): nothing is pulled. */
async function importImage(docker: Dockerode, dir: string, image: string): Promise<void> {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  execFileSync('cp', [run('sh', '-c', 'command -v busybox').trim(), join(rootfs, 'bin', 'busybox')]);
  for (const applet of ['sh', 'sleep', 'nc', 'printf', 'tr', 'sed', 'cat', 'httpd'])
    symlinkSync('busybox', join(rootfs, 'bin', applet));
  mkdirSync(join(rootfs, 'www'));
  writeFileSync(join(rootfs, 'www', 'index.html'), 'hello from the app'); // `httpd -f -p 80 -h /www`
  writeFileSync(join(rootfs, 'proxy.sh'), PROXY_SCRIPT);
  chmodSync(join(rootfs, 'proxy.sh'), 0o755);
  // A metadata proxy that says who called: busybox httpd gives a CGI script the caller's address.
  mkdirSync(join(rootfs, 'www', 'cgi-bin'));
  writeFileSync(join(rootfs, 'www', 'cgi-bin', 'caller'), CALLER_SCRIPT);
  chmodSync(join(rootfs, 'www', 'cgi-bin', 'caller'), 0o755);
  const tar = join(dir, 'rootfs.tar');
  run('tar', '--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-cf', tar, '.');
  const [repo, tag] = image.split(':') as [string, string];
  const progress = await docker.importImage(tar, { repo, tag });
  await new Promise((resolve, reject) =>
    docker.modem.followProgress(progress, (error) => (error ? reject(error) : resolve(undefined))),
  );
}

/** The stand-in metadata server: busybox httpd in its own namespace at 169.254.169.254:80. */
function startMetadataStandIn(dir: string, names: DockerLabNames): ChildProcess {
  const m = names.metadata;
  run('ip', 'netns', 'add', m.netns);
  run('ip', 'link', 'add', m.hostLink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', m.netns);
  run('ip', 'addr', 'add', `${m.hostAddress}/30`, 'dev', m.hostLink);
  run('ip', 'link', 'set', m.hostLink, 'up');
  const ns = (...args: string[]) => run('ip', 'netns', 'exec', m.netns, ...args);
  ns('ip', 'addr', 'add', `${m.nsAddress}/30`, 'dev', 'eth0');
  ns('ip', 'addr', 'add', '169.254.169.254/32', 'dev', 'eth0');
  ns('ip', 'link', 'set', 'eth0', 'up');
  ns('ip', 'link', 'set', 'lo', 'up');
  ns('ip', 'route', 'add', names.network.subnet, 'via', m.hostAddress);
  // Only the lab's containers reach the stand-in through the host: the host's own route to
  // 169.254.169.254 (a real cloud's) is not touched.
  run('ip', 'route', 'add', '169.254.169.254/32', 'via', m.nsAddress, 'table', names.table);
  run('ip', 'rule', 'add', 'from', names.network.subnet, 'to', '169.254.169.254/32', 'lookup', names.table);
  const www = join(dir, 'www', 'metadata');
  mkdirSync(www, { recursive: true });
  writeFileSync(join(www, 'instance'), 'metadata-standin');
  return spawn(
    'ip',
    ['netns', 'exec', m.netns, 'busybox', 'httpd', '-f', '-p', '169.254.169.254:80', '-h', join(dir, 'www')],
    {
      stdio: 'ignore',
    },
  );
}

async function waitForDaemon(docker: Dockerode, daemon: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (daemon.exitCode !== null) throw new Error(`dockerd exited with ${daemon.exitCode}`);
    if (
      await docker.ping().then(
        () => true,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('dockerd did not answer within 20 s');
}

/** A dockerd of the lab's own: its roots, pid file and socket under `dir`, no default bridge, no iptables. */
function startDaemon(
  dir: string,
  socket: string,
  config: Record<string, unknown>,
): { daemon: ChildProcess; log: () => string } {
  writeFileSync(join(dir, 'daemon.json'), JSON.stringify(config));
  const daemon = spawn(
    'dockerd',
    [
      `--data-root=${join(dir, 'data')}`,
      `--exec-root=${join(dir, 'exec')}`,
      `--pidfile=${join(dir, 'dockerd.pid')}`,
      `--host=unix://${socket}`,
      `--config-file=${join(dir, 'daemon.json')}`,
      '--bridge=none',
      '--iptables=false',
      '--ip6tables=false',
      '--storage-driver=vfs',
      '--log-level=error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  daemon.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  return { daemon, log: () => log };
}

/** Removes the host-global things the lab makes (also what a killed earlier run left behind). */
function removeHostNetworking(names: DockerLabNames): void {
  quiet('ip', 'rule', 'del', 'from', names.network.subnet, 'to', '169.254.169.254/32', 'lookup', names.table);
  quiet('ip', 'route', 'flush', 'table', names.table);
  quiet('ip', 'netns', 'del', names.metadata.netns);
  quiet('ip', 'link', 'del', names.metadata.hostLink);
  quiet('ip', 'link', 'del', names.network.bridge);
}

/** Stops everything in order: containers, the network, the stand-in, dockerd, its mounts, the host's pieces. */
async function teardown(
  docker: Dockerode,
  daemon: ChildProcess,
  standIn: ChildProcess | undefined,
  dir: string,
  names: DockerLabNames,
) {
  const gone = () => undefined; // already removed, or the daemon never came up
  for (const c of await docker.listContainers({ all: true }).catch(() => []))
    await docker.getContainer(c.Id).remove({ force: true }).catch(gone);
  await docker.getNetwork(names.network.name).remove().catch(gone);
  standIn?.kill();
  if (daemon.exitCode === null) {
    daemon.kill('SIGTERM');
    await new Promise((resolve) => daemon.once('exit', resolve));
  }
  const netns = join(dir, 'exec', 'netns');
  if (existsSync(netns)) for (const f of readdirSync(netns)) quiet('umount', join(netns, f));
  removeHostNetworking(names);
  rmSync(dir, { recursive: true, force: true });
}

/** Starts dockerd on its own roots and socket, imports the lab image, creates the network and the stand-in. */
export async function createDockerLab(options: DockerLabOptions = {}): Promise<DockerLab> {
  const names = options.names ?? SY13_LAB;
  removeHostNetworking(names);
  const dir = mkdtempSync(join(tmpdir(), 'sy13-docker-'));
  const socket = join(dir, 'docker.sock');
  const forward = run('cat', '/proc/sys/net/ipv4/ip_forward').trim();
  const { daemon, log } = startDaemon(dir, socket, options.daemon ?? {});
  const { default: Docker } = await import('dockerode');
  const docker = new Docker({ socketPath: socket });
  let standIn: ChildProcess | undefined;
  const destroy = async () => {
    await teardown(docker, daemon, standIn, dir, names);
    writeFileSync('/proc/sys/net/ipv4/ip_forward', forward);
  };
  try {
    await waitForDaemon(docker, daemon);
    await importImage(docker, dir, names.image);
    await docker.createNetwork({
      Name: names.network.name,
      Driver: 'bridge',
      Options: { 'com.docker.network.bridge.name': names.network.bridge },
      IPAM: { Config: [{ Subnet: names.network.subnet }] },
    });
    writeFileSync('/proc/sys/net/ipv4/ip_forward', '1'); // the host carries containers' packets to the stand-in
    standIn = startMetadataStandIn(dir, names);
    return { dir, socket, docker, destroy };
  } catch (error) {
    await destroy();
    throw new Error(`the docker lab did not start: ${(error as Error).message}\n${log()}`);
  }
}

/** The shell command that sends one HTTP/1.0 GET to `host` and prints only the body. */
export function httpGet(host: string, path: string): string[] {
  return [
    'sh',
    '-c',
    `printf 'GET ${path} HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${host} 80 | tr -d '\\r' | sed '1,/^$/d'`,
  ];
}
