import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describeRequiring, sh } from '@switchyard/test-kit';

/** Why the privileged tests cannot run here, or undefined when they can. */
export function privilegedUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'they need Linux network namespaces';
  if (process.getuid?.() !== 0) return 'they need root (network namespaces, nftables); run with sudo';
  for (const tool of ['nft', 'ip', 'nsenter']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `the ${tool} command is missing (apt-get install nftables iproute2 util-linux)`;
    }
  }
  return undefined;
}

/**
 * `describe` for tests that need root and namespaces: outside CI they skip with the reason; in CI
 * (CI=true, which runs as root) a missing prerequisite is a failing test, never a silent skip.
 */
export function describePrivileged(title: string, body: () => void): void {
  describeRequiring(privilegedUnavailable(), title, body);
}

let counter = 0;

/** Two hosts (network namespaces) joined by a veth pair, with IPv4 and IPv6 addresses. */
export interface Lab {
  a: { name: string; v4: string; v6: string };
  b: { name: string; v4: string; v6: string };
  /** Runs a command inside a namespace and returns its stdout. */
  run(ns: string, ...args: string[]): string;
  /** Deletes both namespaces (and with them the veth pair, rules and routes). */
  destroy(): void;
}

/**
 * Makes a fresh pair of namespaces. Addresses are private and exist only inside these
 * namespaces: no traffic leaves the machine.
 */
export function createLab(): Lab {
  const id = `${process.pid % 10000}${counter++}`;
  const subnet = (Number(id) % 250) + 1;
  const a = { name: `swy-${id}-a`, v4: `10.77.${subnet}.1`, v6: `fd77:0:0:${subnet.toString(16)}::1` };
  const b = { name: `swy-${id}-b`, v4: `10.77.${subnet}.2`, v6: `fd77:0:0:${subnet.toString(16)}::2` };
  const run = (ns: string, ...args: string[]) => sh('ip', 'netns', 'exec', ns, ...args);
  sh('ip', 'netns', 'add', a.name);
  sh('ip', 'netns', 'add', b.name);
  const lab: Lab = {
    a,
    b,
    run,
    destroy() {
      for (const ns of [a.name, b.name]) if (existsSync(`/run/netns/${ns}`)) sh('ip', 'netns', 'del', ns);
    },
  };
  try {
    sh(
      'ip',
      'link',
      'add',
      `veth${id}a`,
      'netns',
      a.name,
      'type',
      'veth',
      'peer',
      'name',
      `veth${id}b`,
      'netns',
      b.name,
    );
    for (const [host, dev] of [
      [a, `veth${id}a`],
      [b, `veth${id}b`],
    ] as const) {
      run(host.name, 'ip', 'link', 'set', 'lo', 'up');
      run(host.name, 'ip', 'addr', 'add', `${host.v4}/24`, 'dev', dev);
      run(host.name, 'ip', 'addr', 'add', `${host.v6}/64`, 'dev', dev, 'nodad');
      run(host.name, 'ip', 'link', 'set', dev, 'up');
    }
  } catch (error) {
    lab.destroy();
    throw error;
  }
  return lab;
}
