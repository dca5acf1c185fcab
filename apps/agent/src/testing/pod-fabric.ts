import { existsSync } from 'node:fs';
import { sh } from '@switchyard/test-kit';

/** A pod stood in for by a network namespace on the fabric. */
export interface FabricPod {
  name: string;
  /** The network namespace's name (`sy17-…`). */
  netns: string;
  ip: string;
}

/** Pods on one layer-2 segment, each with a default route through the fabric's gateway. */
export interface PodFabric {
  /** The gateway every pod routes through (Service addresses leave a pod this way, and are captured first). */
  gateway: string;
  /** The pods' subnet, e.g. `10.117.0.0/24` (the mesh CIDR of the tests). */
  subnet: string;
  pods: Record<string, FabricPod>;
  /** Runs a command inside a namespace and returns its stdout. */
  run(netns: string, ...args: string[]): string;
  /** Deletes every namespace it made (with them the links, routes and rules). */
  destroy(): void;
}

let made = 0;

/**
 * Makes one namespace per pod name and a fabric namespace holding a bridge they all hang off:
 * `10.117.0.1` is the gateway, pods get `10.117.0.10` onwards. Every address exists only inside
 * these namespaces, whose names start with `sy17-`.
 */
export function createPodFabric(names: readonly string[]): PodFabric {
  const id = `${process.pid % 100_000}${made++}`;
  const fabricNs = `sy17-${id}-fabric`;
  const run = (netns: string, ...args: string[]) => sh('ip', 'netns', 'exec', netns, ...args);
  const made_: string[] = [];
  const fabric: PodFabric = {
    gateway: '10.117.0.1',
    subnet: '10.117.0.0/24',
    pods: {},
    run,
    destroy() {
      for (const ns of made_.reverse()) if (existsSync(`/run/netns/${ns}`)) sh('ip', 'netns', 'del', ns);
    },
  };
  try {
    sh('ip', 'netns', 'add', fabricNs);
    made_.push(fabricNs);
    run(fabricNs, 'ip', 'link', 'set', 'lo', 'up');
    run(fabricNs, 'ip', 'link', 'add', 'br0', 'type', 'bridge');
    run(fabricNs, 'ip', 'addr', 'add', `${fabric.gateway}/24`, 'dev', 'br0');
    run(fabricNs, 'ip', 'link', 'set', 'br0', 'up');
    names.forEach((name, i) => {
      const netns = `sy17-${id}-${name}`;
      const ip = `10.117.0.${10 + i}`;
      sh('ip', 'netns', 'add', netns);
      made_.push(netns);
      sh(
        'ip',
        'link',
        'add',
        `p${i}`,
        'netns',
        fabricNs,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        netns,
      );
      run(fabricNs, 'ip', 'link', 'set', `p${i}`, 'master', 'br0', 'up');
      run(netns, 'ip', 'link', 'set', 'lo', 'up');
      run(netns, 'ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
      run(netns, 'ip', 'link', 'set', 'eth0', 'up');
      run(netns, 'ip', 'route', 'add', 'default', 'via', fabric.gateway);
      fabric.pods[name] = { name, netns, ip };
    });
  } catch (error) {
    fabric.destroy();
    throw error;
  }
  return fabric;
}
