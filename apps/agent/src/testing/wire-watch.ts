import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh } from '@switchyard/test-kit';

/** tcpdump's filter for TCP segments that carry data (not bare SYN, ACK, FIN or RST). */
const CARRIES_DATA = '(((ip[2:2] - ((ip[0]&0xf)<<2)) - ((tcp[12]&0xf0)>>2)) != 0)';

/** A tcpdump on every non-loopback interface of a namespace: what crossed its links. */
export interface WireWatch {
  /** Data-carrying TCP segments seen so far on every link that also match a tcpdump `filter`. */
  dataSegments(filter: string): number;
  stop(): Promise<void>;
}

/**
 * Records every TCP segment on a namespace's links (loopback excluded: inside a pod, the proxy
 * hands the app its bytes over loopback, which is not the wire) — or on the given links of the
 * host, when `netns` is undefined (a Docker bridge) — to pcap files read back with tcpdump's own
 * filter, so "no plaintext byte on the wire" is counted by an independent tool.
 */
export async function watchWire(netns: string | undefined, only?: string[]): Promise<WireWatch> {
  const dir = mkdtempSync(join(tmpdir(), 'swy-wire-'));
  const inNs = netns ? ['-n', netns] : [];
  const links =
    only ??
    (
      JSON.parse(execFileSync('ip', [...inNs, '-j', 'link', 'show'], { encoding: 'utf8' })) as {
        ifname: string;
      }[]
    )
      .map((l) => l.ifname)
      .filter((name) => name !== 'lo');
  const dumps: { file: string; child: ChildProcess }[] = links.map((link) => {
    const file = join(dir, `${link}.pcap`);
    const tcpdump = ['tcpdump', '-i', link, '-n', '-U', '-s', '128', '-w', file, 'tcp'];
    const [program, ...args] = netns ? ['ip', 'netns', 'exec', netns, ...tcpdump] : tcpdump;
    const child = spawn(program as string, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    return { file, child };
  });
  // tcpdump says "listening on" once its capture is open.
  await Promise.all(
    dumps.map(
      ({ child }) =>
        new Promise<void>((resolve, reject) => {
          let said = '';
          const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${said}`)), 10_000);
          child.stderr?.on('data', (d) => {
            said += d;
            if (said.includes('listening on')) {
              clearTimeout(timer);
              resolve();
            }
          });
        }),
    ),
  );
  return {
    dataSegments(filter) {
      let n = 0;
      for (const { file } of dumps) {
        const out = execFileSync('tcpdump', ['-r', file, '-n', `tcp and (${filter}) and ${CARRIES_DATA}`], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
          // One line per segment: a busy capture prints far more than the 1 MiB default (ENOBUFS).
          maxBuffer: 512 * 1024 * 1024,
        });
        n += out.split('\n').filter(Boolean).length;
      }
      return n;
    },
    async stop() {
      for (const { child } of dumps) child.kill('SIGINT');
      await Promise.all(
        dumps.map(({ child }) =>
          child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined,
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A third namespace linked to `peer` only: a host outside the mesh. Returns its name, its address
 * and the address `peer` answers it on; `destroy` removes it (and the link with it).
 */
export function outsideHost(
  peer: string,
  subnet: number,
): { name: string; address: string; peerAddress: string; destroy(): void } {
  const name = `${peer}-out`;
  const dev = `o${subnet}${process.pid % 1000}`;
  sh('ip', 'netns', 'add', name);
  sh('ip', 'link', 'add', `${dev}a`, 'netns', name, 'type', 'veth', 'peer', 'name', `${dev}b`, 'netns', peer);
  const address = `10.79.${subnet}.1`;
  const peerAddress = `10.79.${subnet}.2`;
  sh('ip', '-n', name, 'addr', 'add', `${address}/30`, 'dev', `${dev}a`);
  sh('ip', '-n', peer, 'addr', 'add', `${peerAddress}/30`, 'dev', `${dev}b`);
  for (const [ns, link] of [
    [name, `${dev}a`],
    [peer, `${dev}b`],
    [name, 'lo'],
  ] as const)
    sh('ip', '-n', ns, 'link', 'set', link, 'up');
  return {
    name,
    address,
    peerAddress,
    destroy: () => {
      try {
        sh('ip', 'netns', 'del', name);
      } catch {
        // already gone with the lab
      }
    },
  };
}
