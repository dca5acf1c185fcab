import type { IpFamily } from '@switchyard/core';
import type { CarrierName } from '../config/agent-config.js';
import type { PodRecord, PodView } from './pod-index.js';

/** Where a workload's network lives, as a source knows it. */
export type WorkloadNetwork =
  | { netns: string }
  | { netnsPath: string }
  | { pid: number }
  | { containerId: string }
  | { hnsEndpoint: string }
  /** Windows: a pod's HNS namespace (what CNI gets as its network namespace); its endpoint is captured. */
  | { hnsNamespace: string };

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
  /** Its labels (a pod's): policies select workloads by them. */
  labels?: Record<string, string>;
  /**
   * The IP families its network has, when the source knows (a Docker container on a network
   * without IPv6 has none: Docker turns IPv6 off in it). The capture takes the config's
   * `families` that are here; absent, all of them.
   */
  families?: IpFamily[];
  /** Overrides the agent's carrier for this workload. */
  carrier?: CarrierName;
  /** Overrides the agent's certificate directory for this workload. */
  certDir?: string;
}

/** What a source tells the agent. */
export interface SourceSink {
  /** The complete set of workloads now (the reconciler turns it into adds and deletes). */
  snapshot(workloads: readonly Workload[]): void;
  /**
   * The source's index of pods (the Kubernetes source: every pod of the cluster), given once,
   * before the first snapshot; identities and Service endpoints are read from it from then on.
   */
  pods?(index: PodView): void;
  /** The pods whose identity, mesh membership or uncontested addresses changed since the last call. */
  podsChanged?(pods: ReadonlySet<PodRecord>): void;
  /** A change the source could not take; the previous snapshot stays in force. */
  problem(message: string): void;
  /** The policy objects the source holds (the workload file's `policies`), before the snapshot they go with. */
  policies?(
    objects: readonly { kind: 'AuthorizationPolicy' | 'PeerAuthentication'; object: unknown }[],
  ): void;
}

/** A workload the container runtime is about to start, as the runtime names it. */
export type Announcement =
  /** A pod sandbox whose network the CNI plugin chain just set up (CNI ADD). */
  | {
      kind: 'pod';
      namespace: string;
      name: string;
      uid?: string;
      /** Linux: `{ netnsPath }`; Windows: `{ hnsNamespace }`. */
      network: WorkloadNetwork;
      ips: string[];
    }
  /** A container about to run its first instruction (its first process's pid). */
  | { kind: 'container'; id: string; pid: number };

/** Where workloads come from: `file`, `kubernetes` or `docker`. */
export interface WorkloadSource {
  readonly kind: string;
  /**
   * The workload an announcement is, if it is one of this source's (opted in); undefined when it
   * is not (not opted in, host network, or a kind this source does not know).
   */
  announce?(announcement: Announcement): Promise<Workload | undefined>;
  /** Starts watching; resolves once the first snapshot was delivered (or rejects if none can be). */
  start(sink: SourceSink): Promise<void>;
  close(): Promise<void>;
}
