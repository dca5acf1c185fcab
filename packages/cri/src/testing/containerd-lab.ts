import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CriClient, connectCri } from '../cri-client.js';
import { buildOciImage } from './oci-image.js';

/** The sandbox image the lab builds and imports (a static pause binary). */
export const PAUSE_IMAGE = 'localhost/switchyard-pause:1';
/** The app image the lab's containers run (busybox, sleeping). */
export const APP_IMAGE = 'localhost/switchyard-busybox:1';

function has(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why a real containerd cannot be started here, or undefined when it can. */
export function containerdUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'containerd tests run on Linux';
  if (process.getuid?.() !== 0) return 'starting containerd needs root';
  for (const tool of ['containerd', 'ctr', 'runc', 'gcc', 'nsenter', 'ip']) {
    if (!has(tool))
      return `${tool} is missing (scripts/system-deps.sh installs containerd, runc and the CNI plugins)`;
  }
  if (!existsSync('/usr/lib/cni/bridge'))
    return 'the CNI plugins are missing (apt-get install containernetworking-plugins)';
  if (!existsSync('/bin/busybox')) return 'busybox is missing (apt-get install busybox-static)';
  return undefined;
}

/** A running containerd with its own root, state, socket and network, and the pods it made. */
export interface ContainerdLab {
  /** `unix:///…/containerd.sock`. */
  endpoint: string;
  cri: CriClient;
  /** The network namespace containerd (and the CNI bridge) live in. */
  hostNetns: string;
  /** Starts a pod (on the bridge network, or on the host network). Returns its id. */
  runPod(name: string, options?: PodOptions): Promise<string>;
  /** Starts a busybox container in a pod (default command: sleep). Returns its id. */
  runContainer(podId: string, name: string, command?: string[]): Promise<string>;
  /** Stops and removes a pod (its CNI DEL runs). */
  removePod(podId: string): Promise<void>;
  /** The bridge the pods are on, in {@link hostNetns}. */
  bridge: string;
  /** Removes every pod, stops containerd, and deletes everything the lab made. */
  stop(): Promise<void>;
}

let counter = 0;

/** How a lab pod is made. */
export interface PodOptions {
  hostNetwork?: boolean;
  /** Its Kubernetes namespace (CNI_ARGS K8S_POD_NAMESPACE). Default `default`. */
  namespace?: string;
  /** Its uid (K8S_POD_UID). Default one of the lab's. */
  uid?: string;
}

/** How a lab's containerd is made. */
export interface ContainerdOptions {
  /**
   * CNI plugins chained after the bridge (their conflist entries), and the binaries they need by
   * type name; the lab's CNI binary directory holds these beside Debian's plugins.
   */
  chained?: { plugins: Record<string, unknown>[]; binaries: Record<string, string> };
}

/** Kills every process whose command line mentions `text` (the lab's directory). */
function killProcessesMentioning(text: string): void {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already, or not ours to read
    }
  }
}

/**
 * Starts containerd (Debian's 1.6) for tests: its own directories and socket under a temporary
 * directory, run inside a network namespace of its own so the CNI bridge never touches the host's
 * network, with a locally built pause image and a busybox app image (no registry).
 */
export async function startContainerd(options: ContainerdOptions = {}): Promise<ContainerdLab> {
  const id = `${process.pid % 10000}${counter++}`;
  const dir = mkdtempSync(join(tmpdir(), 'swy-ctrd-'));
  const socket = join(dir, 'containerd.sock');
  const hostNetns = `swy-ctrd-${id}`;
  const subnet = (Number(id) % 200) + 20;
  const pods: { id: string; config: Record<string, unknown> }[] = [];
  let containerd: ChildProcess | undefined;
  let cri: CriClient | undefined;

  const cleanup = async () => {
    for (const pod of pods.reverse()) {
      await cri?.call('StopPodSandbox', { podSandboxId: pod.id }).catch(() => {});
      await cri?.call('RemovePodSandbox', { podSandboxId: pod.id }).catch(() => {});
    }
    cri?.close();
    if (containerd && containerd.exitCode === null) {
      containerd.kill('SIGTERM');
      await new Promise((r) => containerd?.once('exit', r));
    }
    // Shims of sandboxes the runtime could not remove must not outlive the lab either.
    killProcessesMentioning(dir);
    // Snapshot and sandbox mounts live under the lab's root; none may outlive it.
    execFileSync('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`], {
      stdio: 'ignore',
    });
    if (existsSync(`/run/netns/${hostNetns}`)) execFileSync('ip', ['netns', 'del', hostNetns]);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const cniConf = join(dir, 'cni');
    mkdirSync(cniConf);
    const binDir = cniBinDir(dir, options.chained?.binaries ?? {});
    writeFileSync(
      join(cniConf, '10-switchyard-test.conflist'),
      JSON.stringify({
        cniVersion: '0.4.0',
        name: 'switchyard-test',
        plugins: [
          {
            type: 'bridge',
            bridge: `swybr${id}`,
            isGateway: true,
            ipMasq: false,
            ipam: {
              type: 'host-local',
              ranges: [[{ subnet: `10.233.${subnet}.0/24` }]],
              dataDir: join(dir, 'ipam'),
            },
          },
          ...(options.chained?.plugins ?? []),
        ],
      }),
    );
    writeFileSync(
      join(dir, 'config.toml'),
      [
        'version = 2',
        `root = "${join(dir, 'root')}"`,
        `state = "${join(dir, 'state')}"`,
        '[grpc]',
        `  address = "${socket}"`,
        '[plugins."io.containerd.grpc.v1.cri"]',
        `  sandbox_image = "${PAUSE_IMAGE}"`,
        // This machine's root lacks CAP_SYS_RESOURCE; without this every sandbox fails to start.
        '  restrict_oom_score_adj = true',
        '[plugins."io.containerd.grpc.v1.cri".cni]',
        `  bin_dir = "${binDir}"`,
        `  conf_dir = "${cniConf}"`,
      ].join('\n'),
    );
    execFileSync('ip', ['netns', 'add', hostNetns]);
    execFileSync('ip', ['-n', hostNetns, 'link', 'set', 'lo', 'up']);
    const logs: string[] = [];
    containerd = spawn(
      'nsenter',
      [`--net=/run/netns/${hostNetns}`, '--', 'containerd', '--config', join(dir, 'config.toml')],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    containerd.stderr?.on('data', (d) => logs.push(String(d)));
    for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
    if (!existsSync(socket)) throw new Error(`containerd did not start:\n${logs.join('').slice(-2000)}`);

    const pause = join(dir, 'pause');
    execFileSync('gcc', ['-static', '-O2', '-o', pause, join(import.meta.dirname, 'pause.c')]);
    const pauseTar = join(dir, 'pause.tar');
    buildOciImage(PAUSE_IMAGE, { pause }, ['/pause'], pauseTar);
    const appTar = join(dir, 'app.tar');
    buildOciImage(
      APP_IMAGE,
      { 'bin/busybox': '/bin/busybox', 'bin/sh': { link: 'busybox' } },
      ['/bin/busybox', 'sleep', '3600'],
      appTar,
    );
    for (const tar of [pauseTar, appTar])
      execFileSync('ctr', ['-a', socket, '-n', 'k8s.io', 'images', 'import', tar], { stdio: 'ignore' });

    const endpoint = `unix://${socket}`;
    cri = await connectCri({ endpoint, timeoutMs: 30_000 });
    const client = cri;
    return {
      endpoint,
      cri: client,
      hostNetns,
      bridge: `swybr${id}`,
      async runPod(name, options = {}) {
        const config = {
          metadata: {
            name,
            uid: options.uid ?? `uid-${name}-${id}`,
            namespace: options.namespace ?? 'default',
            attempt: 0,
          },
          // runc cannot set a hostname without a UTS namespace of the pod's own.
          ...(options.hostNetwork ? {} : { hostname: name }),
          logDirectory: join(dir, 'logs', name),
          labels: { app: 'switchyard-test', pod: name },
          annotations: { 'switchyard.dev/test': 'true' },
          linux: {
            securityContext: {
              namespaceOptions: {
                network: options.hostNetwork ? 'NODE' : 'POD',
                pid: 'CONTAINER',
                ipc: 'POD',
              },
            },
          },
        };
        const { podSandboxId } = await client.call<{ podSandboxId: string }>('RunPodSandbox', { config });
        pods.push({ id: podSandboxId, config });
        return podSandboxId;
      },
      async removePod(podId) {
        await client.call('StopPodSandbox', { podSandboxId: podId });
        await client.call('RemovePodSandbox', { podSandboxId: podId });
        const at = pods.findIndex((p) => p.id === podId);
        if (at >= 0) pods.splice(at, 1);
      },
      async runContainer(podId, name, command = ['/bin/busybox', 'sleep', '3600']) {
        const pod = pods.find((p) => p.id === podId);
        const { containerId } = await client.call<{ containerId: string }>('CreateContainer', {
          podSandboxId: podId,
          config: {
            metadata: { name },
            image: { image: APP_IMAGE },
            command,
            logPath: `${name}.log`,
          },
          sandboxConfig: pod?.config,
        });
        await client.call('StartContainer', { containerId });
        return containerId;
      },
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** Debian's CNI plugins, and the extra binaries a test chains, in one directory (containerd takes one). */
function cniBinDir(dir: string, extra: Record<string, string>): string {
  const bin = join(dir, 'cni-bin');
  mkdirSync(bin);
  for (const name of readdirSync('/usr/lib/cni')) symlinkSync(join('/usr/lib/cni', name), join(bin, name));
  for (const [name, path] of Object.entries(extra)) symlinkSync(path, join(bin, name));
  return bin;
}
