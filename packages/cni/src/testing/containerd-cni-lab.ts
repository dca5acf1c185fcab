import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CriClient, connectCri } from '@switchyard/cri';
import { buildOciImage } from '@switchyard/cri/testing';
import { installCni } from '../install.js';
import { processesMentioning } from './processes.js';

/** Host-global names this lab makes: unique to it (other suites use sy13…, swy-ctrd-…). */
export const CNI_LAB = {
  netns: `sy21c-ctrd-${process.pid}`,
  bridge: 'sy21ccni0',
  subnet: '10.222.0.0/24',
  network: 'sy21c-pods',
  sandboxImage: 'localhost/sy21c-sandbox:1',
} as const;

/** The plugins of the main network the lab chains switchyard-cni after. */
const MAIN_PLUGINS = ['bridge', 'host-local', 'loopback'];

/** A real containerd whose CRI plugin runs the bridge network with switchyard-cni chained. */
export interface CniLab {
  cri: CriClient;
  /** The host-local IPAM's reservations: one file per address in use. */
  reservedAddresses(): string[];
  /** RunPodSandbox of pod `namespace/name`. Resolves to its id; rejects with the runtime's error. */
  runPod(namespace: string, name: string): Promise<string>;
  /** StopPodSandbox then RemovePodSandbox. */
  removePod(id: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts containerd (its own root, state and socket, inside a network namespace of its own) with
 * a CNI bin dir holding the main plugins and switchyard-cni, which the installer chained into the
 * bridge network's conflist.
 */
export async function startCniLab(
  plugin: string,
  agentSocket: string,
  timeoutSeconds: number,
): Promise<CniLab> {
  const dir = mkdtempSync(join(tmpdir(), 'sy21c-ctrd-'));
  const socket = join(dir, 'containerd.sock');
  const binDir = join(dir, 'cni-bin');
  const confDir = join(dir, 'net.d');
  const ipam = join(dir, 'ipam');
  const pods: string[] = [];
  let containerd: ChildProcess | undefined;
  let cri: CriClient | undefined;
  const removePod = async (id: string) => {
    await cri?.call('StopPodSandbox', { podSandboxId: id });
    await cri?.call('RemovePodSandbox', { podSandboxId: id });
  };
  const stop = async () => {
    for (const id of pods.reverse()) await removePod(id).catch(() => undefined); // maybe gone already
    cri?.close();
    if (containerd && containerd.exitCode === null) {
      containerd.kill('SIGTERM');
      await new Promise((resolve) => containerd?.once('exit', resolve));
    }
    for (const { pid } of processesMentioning(dir)) process.kill(pid, 'SIGKILL'); // shims of pods not removed
    execFileSync('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
    if (existsSync(`/run/netns/${CNI_LAB.netns}`)) execFileSync('ip', ['netns', 'del', CNI_LAB.netns]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    mkdirSync(binDir);
    mkdirSync(confDir);
    for (const name of MAIN_PLUGINS) symlinkSync(`/usr/lib/cni/${name}`, join(binDir, name));
    const bridge = { type: 'bridge', bridge: CNI_LAB.bridge, isGateway: true, ipMasq: false };
    const ipamConfig = { type: 'host-local', ranges: [[{ subnet: CNI_LAB.subnet }]], dataDir: ipam };
    writeFileSync(
      join(confDir, '10-pods.conflist'),
      JSON.stringify({
        cniVersion: '1.0.0',
        name: CNI_LAB.network,
        plugins: [{ ...bridge, ipam: ipamConfig }],
      }),
    );
    await installCni({ binary: plugin, binDir, confDir, agentSocket, agentTimeoutSeconds: timeoutSeconds });
    writeFileSync(
      join(dir, 'config.toml'),
      `version = 2\nroot = "${join(dir, 'root')}"\nstate = "${join(dir, 'state')}"\n[grpc]\n  address = "${socket}"\n` +
        `[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "${CNI_LAB.sandboxImage}"\n` +
        '  restrict_oom_score_adj = true\n' + // root here lacks CAP_SYS_RESOURCE
        `[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "${binDir}"\n  conf_dir = "${confDir}"\n`,
    );
    execFileSync('ip', ['netns', 'add', CNI_LAB.netns]);
    execFileSync('ip', ['-n', CNI_LAB.netns, 'link', 'set', 'lo', 'up']);
    let log = '';
    // nsenter, not `ip netns exec`, which makes a mount namespace that hides the pods' netns mounts.
    const netns = `--net=/run/netns/${CNI_LAB.netns}`;
    containerd = spawn('nsenter', [netns, '--', 'containerd', '--config', join(dir, 'config.toml')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    containerd.stderr?.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-4000);
    });
    for (let i = 0; i < 100 && !existsSync(socket); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    if (!existsSync(socket)) throw new Error(`containerd did not start:\n${log}`);
    const image = join(dir, 'sandbox.tar');
    buildOciImage(
      CNI_LAB.sandboxImage,
      { 'bin/busybox': '/bin/busybox' },
      ['/bin/busybox', 'sleep', '86400'],
      image,
    );
    execFileSync('ctr', ['-a', socket, '-n', 'k8s.io', 'images', 'import', image], { stdio: 'ignore' });
    cri = await connectCri({ endpoint: `unix://${socket}`, timeoutMs: 60_000 });
    const client = cri;
    return {
      cri: client,
      reservedAddresses: () =>
        existsSync(join(ipam, CNI_LAB.network))
          ? readdirSync(join(ipam, CNI_LAB.network)).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f))
          : [],
      async runPod(namespace, name) {
        const config = {
          metadata: { name, namespace, uid: `uid-${namespace}-${name}`, attempt: 0 },
          hostname: name,
          logDirectory: join(dir, 'logs', name),
          linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
        };
        const { podSandboxId } = await client.call<{ podSandboxId: string }>('RunPodSandbox', { config });
        pods.push(podSandboxId);
        return podSandboxId;
      },
      removePod,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
