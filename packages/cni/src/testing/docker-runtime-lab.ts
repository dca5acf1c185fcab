import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { processesMentioning } from './processes.js';

/**
 * Names this lab makes. The bridge and its subnet are host-global: they carry the process id, so
 * the suites of two checkouts running at once never meet (others' labs use sy13…, sy21a…).
 */
export const RUNTIME_LAB = {
  image: 'sy21c-busybox:local',
  network: 'sy21cnet',
  bridge: `sy21c-${process.pid}`,
  subnet: `10.221.${process.pid % 250}.0/24`,
  runtime: 'switchyard',
} as const;

/** A dockerd of the test's own with switchyard-runtime registered as the `switchyard` runtime. */
export interface RuntimeLab {
  dir: string;
  /** Runs the docker CLI against the lab's daemon. */
  docker(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }>;
  /** The container ids of the containerd shims this lab's daemon left running. */
  shims(): string[];
  destroy(): Promise<void>;
}

/** Why the lab cannot run here, or undefined when it can. */
export function runtimeLabUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'it needs root (dockerd); run with sudo';
  for (const tool of ['dockerd', 'docker', 'runc', 'busybox', 'nsenter', 'ip'])
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `the ${tool} command is missing (scripts/system-deps.sh installs docker.io, runc, busybox-static)`;
    }
  return undefined;
}

/** The ids of running containerd shims whose containerd lives under `dir`. */
function shimsOf(dir: string): string[] {
  return processesMentioning(dir)
    .filter(({ argv }) => argv[0]?.includes('containerd-shim') && argv.includes('-id'))
    .map(({ argv }) => argv[argv.indexOf('-id') + 1] as string);
}

function quiet(program: string, ...args: string[]): void {
  try {
    execFileSync(program, args, { stdio: 'ignore' });
  } catch {
    // teardown of something that may already be gone
  }
}

/** The host's runc (what the wrapper runs), found on PATH. */
export function hostRunc(): string {
  return execFileSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).trim();
}

function rootfsTar(dir: string): string {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  execFileSync('cp', [
    execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim(),
    join(rootfs, 'bin'),
  ]);
  // No `sleep` applet: a process of that name would confuse suites that find theirs with pgrep.
  for (const applet of ['sh', 'touch']) symlinkSync('busybox', join(rootfs, 'bin', applet));
  const tar = join(dir, 'rootfs.tar');
  execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-cf', tar, '.']);
  return tar;
}

/** Starts dockerd (own roots, socket, config) with `wrapper` as runtime `switchyard`, asking `agentSocket`. */
export async function createRuntimeLab(wrapper: string, agentSocket: string): Promise<RuntimeLab> {
  const dir = mkdtempSync(join(tmpdir(), 'sy21c-docker-'));
  const host = `unix://${join(dir, 'docker.sock')}`;
  const runtimeArgs = [
    `--switchyard-socket=${agentSocket}`,
    `--switchyard-runtime=${hostRunc()}`,
    '--switchyard-timeout=5',
  ];
  writeFileSync(
    join(dir, 'daemon.json'),
    JSON.stringify({ runtimes: { [RUNTIME_LAB.runtime]: { path: wrapper, runtimeArgs } } }),
  );
  let log = '';
  const daemon = spawn(
    'dockerd',
    [
      `--data-root=${join(dir, 'data')}`,
      `--exec-root=${join(dir, 'exec')}`,
      `--pidfile=${join(dir, 'dockerd.pid')}`,
      `--host=${host}`,
      `--config-file=${join(dir, 'daemon.json')}`,
      '--bridge=none',
      '--iptables=false',
      '--ip6tables=false',
      '--storage-driver=vfs',
      '--log-level=error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  daemon.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  const docker = async (...args: string[]) =>
    promisify(execFile)('docker', ['-H', host, ...args], { maxBuffer: 4 << 20 }).then(
      ({ stdout, stderr }) => ({ status: 0, stdout, stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({
        status: typeof e.code === 'number' ? e.code : 1,
        stdout: e.stdout ?? '',
        stderr: e.stderr ?? '',
      }),
    );
  const destroy = async () => {
    const ids = (await docker('ps', '-aq')).stdout.split('\n').filter(Boolean);
    if (ids.length) await docker('rm', '-f', ...ids);
    await docker('network', 'rm', RUNTIME_LAB.network);
    if (daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await new Promise((resolve) => daemon.once('exit', resolve));
    }
    const netns = join(dir, 'exec', 'netns');
    if (existsSync(netns)) for (const f of readdirSync(netns)) quiet('umount', join(netns, f));
    quiet('ip', 'link', 'del', RUNTIME_LAB.bridge);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; (await docker('version')).status !== 0; i++) {
      if (daemon.exitCode !== null || i >= 200)
        throw new Error(`dockerd did not come up (exit ${daemon.exitCode})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const imported = await docker('import', rootfsTar(dir), RUNTIME_LAB.image);
    if (imported.status !== 0) throw new Error(`docker import: ${imported.stderr}`);
    const network = await docker(
      ...['network', 'create', '--driver', 'bridge', '--subnet', RUNTIME_LAB.subnet],
      ...['-o', `com.docker.network.bridge.name=${RUNTIME_LAB.bridge}`, RUNTIME_LAB.network],
    );
    if (network.status !== 0) throw new Error(`docker network create: ${network.stderr}`);
    return { dir, docker, destroy, shims: () => shimsOf(dir) };
  } catch (error) {
    await destroy();
    throw new Error(`the docker runtime lab did not start: ${(error as Error).message}\n${log}`);
  }
}
