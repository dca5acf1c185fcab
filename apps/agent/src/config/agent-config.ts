import type { Endpoint, IpFamily } from '@switchyard/core';
import type { IdentityFallback, LogLevel } from '@switchyard/dataplane';

/**
 * The carriers the agent can run a workload on: the data plane's carrier registry's names — the
 * built-in `hbone`, `hbone-native`, `mtls`, `mtls-native` (`mtls` on the native relay engine, Linux,
 * `@switchyard/relay-native`: the same wire protocol, so peers may use either), and those the
 * config's `carrierModules` load.
 */
export type CarrierName = string;

/** Where workloads come from: a watched file, or the Kubernetes API. */
export type SourceConfig =
  | {
      kind: 'file';
      /** The workload file (YAML or JSON), watched for changes. Relative to the config file. */
      path: string;
    }
  | {
      kind: 'kubernetes';
      /** A kubeconfig file. Default: the in-cluster service account. */
      kubeconfig?: string;
      /** The label, on a pod or its namespace, whose value `enabled` opts the pod in. */
      label: string;
    }
  | {
      kind: 'docker';
      /** The Docker Engine API socket (a unix socket, or a named pipe on Windows). */
      socket: string;
      /** The label whose value `enabled` opts a container in. */
      label: string;
    };

/** Where workload certificates come from. */
export type IdentityConfig =
  | {
      /** The agent issues and rotates each workload's certificate from this CA directory. */
      caDir: string;
      /** Validity of issued certificates, hours; reissued when a third is left. */
      certHours: number;
    }
  | {
      /**
       * A certificate directory per workload; `{namespace}`, `{serviceAccount}` and `{name}` are
       * replaced (e.g. `/etc/switchyard/certs/{namespace}/{serviceAccount}`).
       */
      certDir: string;
    };

/** One metadata endpoint whose connections are delivered to the metadata proxy container (core's {@link Endpoint}). */
export type MetadataEndpoint = Endpoint;

/**
 * How the metadata proxy learns who called: `agent` (it sees the agent's side of the bridge),
 * `source` (the client's own address: dialled from the client's network namespace; Linux), or
 * `proxy-v2` (a PROXY protocol v2 header before the client's bytes).
 */
export type MetadataCaller = 'agent' | 'source' | 'proxy-v2';

/** Cloud metadata proxying for Docker containers (see docs/metadata-proxy.md). */
export interface MetadataProxyConfig {
  /** The Docker Engine API socket. */
  docker: string;
  /** The container label: value `client` (its metadata requests are proxied) or `proxy` (it serves them). */
  label: string;
  /** The metadata endpoints clients' connections to which are delivered to the proxy. */
  endpoints: MetadataEndpoint[];
  /** Where captured metadata connections arrive in each client's network. */
  port: number;
  /** The proxy container's port; default the port the client dialled. */
  proxyPort?: number;
  /** While no proxy container runs: `refuse` clients' metadata connections, or let them go `direct`. */
  whenNoProxy: 'refuse' | 'direct';
  /** How the proxy learns who called. */
  caller: MetadataCaller;
}

/** Inbound authorization (see docs/agent.md, "Policy"). */
export interface PolicyConfig {
  /** `namespace`: peers of the workload's own namespace; `istio`: AuthorizationPolicy and PeerAuthentication. */
  mode: 'namespace' | 'istio';
  /** Istio's root namespace: its selector-less policies apply everywhere. */
  rootNamespace: string;
  /** The mTLS mode where no PeerAuthentication sets one. */
  defaultMtls: 'STRICT' | 'PERMISSIVE';
}

/** The agent's configuration, every default filled in (see `AGENT_DEFAULTS`). */
export interface AgentConfig {
  /** This node's name (the Kubernetes source selects pods by it). */
  node: string;
  /** The SPIFFE trust domain: peers' expected identities are `spiffe://DOMAIN/ns/NS/sa/SA`. */
  trustDomain: string;
  source: SourceConfig;
  /** The capture driver by registry name: `tproxy` (Linux) or `hns` (Windows), or a plugin's. */
  driver: string;
  /**
   * How workloads' traffic is carried when a workload does not say. Unless the config names one
   * (`carrierPinned`), `hbone-native` where the native engine loads, else `hbone` (see
   * `chooseCarrier`).
   */
  carrier: CarrierName;
  /** Whether the config names `carrier`: then it runs, or the agent refuses to start (no fallback). */
  carrierPinned: boolean;
  /**
   * Third-party carrier modules to load into the carrier registry before `carrier` is checked:
   * package names (resolved from the config file's directory, then from the agent's), or paths
   * relative to the config file.
   */
  carrierModules: string[];
  identity: IdentityConfig;
  /** The container runtime's CRI endpoint, for `containerId` networks and pods. Default: containerd's, then CRI-O's. */
  criEndpoint?: string;
  /** Destinations inside the mesh: carried over mTLS/HBONE. */
  meshCidrs: string[];
  /** Let outbound connections outside `meshCidrs` through in plain TCP (else refuse them). */
  passthroughOutsideMesh: boolean;
  /** What a client accepts from a destination whose identity is unknown. */
  identityFallback: IdentityFallback;
  ports: { inbound: number; outbound: number; hbone: number };
  admin: { host: string; port: number };
  /** How the proxy's own traffic is let through capture: a socket mark (Linux), a user SID (Windows). */
  bypass: { mark: number; userSid?: string };
  families: IpFamily[];
  /** Where the agent keeps its lock, its record of what it applied, and issued certificates. */
  stateDir: string;
  log: { level: LogLevel; accessLog: boolean };
  /** How long a removed workload's connections may finish, seconds; also the SIGTERM drain. */
  drainSeconds: number;
  /** How often every captured workload is checked against the node, seconds. */
  resyncSeconds: number;
  /** Backoff of a failed workload: first retry, and the most it grows to, milliseconds. */
  retry: { initialMs: number; maxMs: number };
  /**
   * The unix socket where the container runtime (the `switchyard-cni` plugin, the
   * `switchyard-runtime` wrapper) asks the agent to capture a workload before it starts.
   * Default `stateDir/agent.sock`.
   */
  runtimeSocket: string;
  /**
   * How long a workload the runtime announced is held, captured, while the source does not list
   * it yet, seconds (a pod whose image is still being pulled). Default 300.
   */
  announceGraceSeconds: number;
  /** Cloud metadata proxying for Docker containers; off when absent. */
  metadataProxy?: MetadataProxyConfig;
  /** Inbound authorization. */
  policy: PolicyConfig;
}
