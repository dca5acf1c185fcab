import type { EndpointState } from '@switchyard/dataplane';
import type { CompactService, CompactSlice } from './compact.js';
import { endpointsOf, type IndexInputs, identityOf } from './service-index.js';

/** One endpoint as `status --service` shows it, ready or not. */
export interface EndpointReport {
  address: string;
  /** The target port on this endpoint (a named target port resolved). */
  port: number;
  pod?: string;
  node?: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** The identity pinned for it; absent when its pod is unknown (then it is never used). */
  identity?: string;
  /** As the data plane gets it: `unverified` endpoints are refused, whatever the policy. */
  state: EndpointState;
}

/** A Service as `status --service` shows it: each port with every endpoint and its identity. */
export interface ServiceReport {
  service: string;
  clusterIPs: string[];
  /** No ClusterIP: connections go to the pods' own addresses, handled like any pod address. */
  headless: boolean;
  ports: { name: string; port: number; targetPort: number | string; endpoints: EndpointReport[] }[];
}

/** What the agent knows of one Service, for people. */
export function serviceReport(
  service: CompactService,
  slices: readonly CompactSlice[],
  inputs: Pick<IndexInputs, 'pods' | 'trustDomain'>,
): ServiceReport {
  return {
    service: `${service.namespace}/${service.name}`,
    clusterIPs: service.clusterIPs,
    headless: service.clusterIPs.length === 0,
    ports: service.ports.map((port) => ({
      ...port,
      endpoints: endpointsOf(port, slices).map(({ endpoint: e, number }) => {
        const pinned = identityOf(e, inputs);
        return {
          address: e.addresses[0] ?? '',
          port: number,
          ...(e.pod ? { pod: `${e.pod.namespace}/${e.pod.name}` } : {}),
          ...(e.node ? { node: e.node } : {}),
          ready: e.ready,
          serving: e.serving,
          terminating: e.terminating,
          ...(pinned ? { identity: pinned.identity } : {}),
          state: pinned ? (pinned.inMesh ? 'mesh' : 'plain') : 'unverified',
        };
      }),
    })),
  };
}
