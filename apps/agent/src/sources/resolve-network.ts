import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { TargetNotFoundError } from '@switchyard/core';
import { type CriClient, captureTarget, connectCri, lookupWorkload } from '@switchyard/cri';
import type { ResolvedNetwork } from '../plan/plan.js';
import type { Workload } from './workload.js';

/** Finds where workloads' networks live: namespaces directly, containers through CRI. */
export interface NetworkResolver {
  resolve(workload: Workload): Promise<ResolvedNetwork>;
  close(): void;
}

/** Windows: an HNS namespace's endpoint ids. */
export type HnsNamespaceEndpoints = (namespaceId: string) => Promise<string[]>;

/** Through HNS itself (the hns driver's binding, loaded on first use). */
const hnsNamespaceEndpoints: HnsNamespaceEndpoints = async (namespaceId) => {
  const { loadHcn, namespaceEndpoints } = await import('@switchyard/driver-hns');
  return namespaceEndpoints(await loadHcn(), namespaceId);
};

/**
 * A resolver; CRI is connected on first use only (a file of named namespaces needs no runtime).
 * `hnsEndpoints` finds a Windows pod's endpoint from its HNS namespace (default: through HNS).
 */
export function networkResolver(
  criEndpoint?: string,
  hnsEndpoints: HnsNamespaceEndpoints = hnsNamespaceEndpoints,
): NetworkResolver {
  let cri: Promise<CriClient> | undefined;
  const runtime = () => {
    cri ??= connectCri(criEndpoint ? { endpoint: criEndpoint } : {}).catch((error: Error) => {
      cri = undefined;
      throw error;
    });
    return cri;
  };
  return {
    async resolve(w) {
      const n = w.network;
      if ('containerId' in n) {
        const found = await lookupWorkload(await runtime(), n.containerId, {
          resolveHnsNamespace: hnsEndpoints,
        });
        return { target: captureTarget(found), addresses: w.ips.length > 0 ? w.ips : found.ips };
      }
      if ('hnsEndpoint' in n)
        return { target: { kind: 'hns-endpoint', id: n.hnsEndpoint }, addresses: w.ips };
      if ('hnsNamespace' in n) {
        const [endpoint] = await hnsEndpoints(n.hnsNamespace);
        if (!endpoint)
          throw new TargetNotFoundError(`the HNS namespace ${n.hnsNamespace} of ${w.id} holds no endpoint`);
        return { target: { kind: 'hns-endpoint', id: endpoint }, addresses: w.ips };
      }
      const target =
        'netns' in n
          ? { kind: 'netns' as const, name: n.netns }
          : 'netnsPath' in n
            ? { kind: 'netns' as const, path: n.netnsPath }
            : { kind: 'netns' as const, pid: n.pid };
      const path =
        'netns' in n ? `/run/netns/${n.netns}` : 'netnsPath' in n ? n.netnsPath : `/proc/${n.pid}/ns/net`;
      await stat(path).catch(() => {
        throw new TargetNotFoundError(`the network namespace of ${w.id} (${path}) does not exist`);
      });
      return { target, addresses: w.ips.length > 0 ? w.ips : await addressesIn(path) };
    },
    close() {
      void cri?.then((c) => c.close()).catch(() => {});
    },
  };
}

/** The global addresses inside a network namespace (`ip -j addr`, structured rather than scraped). */
async function addressesIn(nsPath: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('nsenter', [
    `--net=${nsPath}`,
    '--',
    'ip',
    '-j',
    'addr',
    'show',
  ]);
  const links = JSON.parse(stdout) as { addr_info?: { local: string; scope: string }[] }[];
  return links.flatMap((l) => (l.addr_info ?? []).filter((a) => a.scope === 'global').map((a) => a.local));
}
