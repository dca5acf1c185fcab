import { DEFAULT_BYPASS_MARK, PROXY_PORTS } from '@switchyard/core';
import { DATAPLANE_PORTS } from '@switchyard/dataplane';

/**
 * Every default of the agent's configuration, defined once: the loader fills these in, the docs
 * list them, the manifests rely on them. Ports and the bypass mark come from the data plane and
 * core, where the capture rules and the dials read them too.
 */
export const AGENT_DEFAULTS = Object.freeze({
  /** Where `switchyard-agent` reads its config unless `--config` or SWITCHYARD_AGENT_CONFIG says. */
  configPath:
    process.platform === 'win32'
      ? 'C:\\ProgramData\\switchyard-agent\\agent.yaml'
      : '/etc/switchyard/agent.yaml',
  trustDomain: 'cluster.local',
  sourceKind: 'file' as const,
  /** The embedded default: a workload file beside the config. */
  workloadFile: 'workloads.yaml',
  /** The opt-in label (pod or namespace) of the Kubernetes source; value `enabled`. */
  optInLabel: 'switchyard.io/capture',
  optInValue: 'enabled',
  driver: process.platform === 'win32' ? 'hns' : 'tproxy',
  /** The carrier where the config names none: HBONE on the native engine, where the engine loads. */
  carrier: 'hbone-native' as const,
  /** What the default carrier falls back to where the engine cannot load: HBONE in JavaScript (the reference). */
  fallbackCarrier: 'hbone' as const,
  certHours: 24,
  identityFallback: 'refuse' as const,
  ports: {
    inbound: DATAPLANE_PORTS.inbound,
    outbound: DATAPLANE_PORTS.outbound,
    hbone: DATAPLANE_PORTS.hbone,
  },
  admin: { host: '127.0.0.1', port: DATAPLANE_PORTS.admin },
  bypassMark: DEFAULT_BYPASS_MARK,
  /** Windows: LocalSystem, the account a HostProcess container runs as. */
  bypassUserSid: 'S-1-5-18',
  families: ['ipv4', 'ipv6'] as ('ipv4' | 'ipv6')[],
  stateDir: process.platform === 'win32' ? 'C:\\ProgramData\\switchyard-agent' : '/var/lib/switchyard-agent',
  logLevel: 'info' as const,
  drainSeconds: 5,
  resyncSeconds: 10,
  retry: { initialMs: 250, maxMs: 30_000 },
  /** The socket the container runtime asks for capture on (CNI plugin, runtime wrapper), in `stateDir`. */
  runtimeSocketName: 'agent.sock',
  /** How long a workload the runtime announced is held while its source does not list it, seconds. */
  announceGraceSeconds: 300,
  /**
   * Inbound authorization: `namespace` (each workload admits peers of its own namespace), or
   * `istio` (AuthorizationPolicy and PeerAuthentication, from the cluster or the workload file).
   */
  policy: {
    mode: 'namespace' as const,
    /** Istio's root namespace: its selector-less policies apply in every namespace. */
    rootNamespace: 'istio-system',
    /** The mTLS mode where no PeerAuthentication sets one (Istio ambient's is PERMISSIVE). */
    defaultMtls: 'STRICT' as const,
  },
  /** The agent's own policy id on every target it captures. */
  policyId: 'switchyard-agent',
  /** The Docker Engine API socket (`docker` source, metadata proxying). */
  dockerSocket: process.platform === 'win32' ? '//./pipe/docker_engine' : '/var/run/docker.sock',
  /** Metadata proxying for Docker containers. */
  metadataProxy: {
    /** The container label; value `client` or `proxy`. */
    label: 'switchyard.io/metadata',
    /** The cloud metadata endpoint (Azure IMDS, AWS, GCP, …). */
    endpoints: ['169.254.169.254:80'],
    /** Where captured metadata connections arrive in each client's network. */
    port: PROXY_PORTS.metadata,
    whenNoProxy: 'refuse' as const,
    /** The proxy sees the agent's side of the bridge unless told otherwise. */
    caller: 'agent' as const,
    /** Its policy id on every client it captures. */
    policyId: 'switchyard-metadata',
  },
});
