import type { CarrierName } from '../config/agent-config.js';

/** Where a workload's network lives, as a source knows it. */
export type WorkloadNetwork =
  | { netns: string }
  | { netnsPath: string }
  | { pid: number }
  | { containerId: string }
  | { hnsEndpoint: string };

/** A workload the node must capture and carry, from any source. */
export interface Workload {
  /** `namespace/name`, unique on the node. */
  id: string;
  name: string;
  namespace: string;
  serviceAccount: string;
  network: WorkloadNetwork;
  /** Its addresses, when the source knows them (pod IPs); otherwise read from its network. */
  ips: string[];
  /** Ports kubelet probes reach the app on: never captured inbound. */
  probePorts: number[];
  /** Overrides the agent's carrier for this workload. */
  carrier?: CarrierName;
  /** Overrides the agent's certificate directory for this workload. */
  certDir?: string;
}

/** What a source tells the agent. */
export interface SourceSink {
  /** The complete set of workloads now (the reconciler turns it into adds and deletes). */
  snapshot(workloads: readonly Workload[]): void;
  /** Every known address → the identity it must present (`namespace`, `serviceAccount`). */
  peers?(
    peers: ReadonlyMap<string, { namespace: string; serviceAccount: string; pod?: string; inMesh?: boolean }>,
  ): void;
  /** A change the source could not take; the previous snapshot stays in force. */
  problem(message: string): void;
}

/** Where workloads come from: `file` or `kubernetes`. */
export interface WorkloadSource {
  readonly kind: string;
  /** Starts watching; resolves once the first snapshot was delivered (or rejects if none can be). */
  start(sink: SourceSink): Promise<void>;
  close(): Promise<void>;
}
