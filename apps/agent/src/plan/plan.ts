import type { RedirectionPolicy, Target } from '@switchyard/core';
import type { WorkloadPolicy } from '@switchyard/dataplane';
import { formatSpiffeId } from '@switchyard/mesh';
import { carrierCapabilities } from '../carriers/carriers.js';
import type { AgentConfig, CarrierName } from '../config/agent-config.js';
import { AGENT_DEFAULTS } from '../config/defaults.js';
import type { ResolvedNetwork } from '../sources/resolve-network.js';
import type { Workload } from '../sources/workload.js';

export type { ResolvedNetwork };

/** Everything the node must hold for one workload, derived once from the workload and the config. */
export interface WorkloadPlan {
  id: string;
  target: Target;
  /** The capture rules (the driver's input). */
  policy: RedirectionPolicy;
  /** The data plane's listeners and admission for it (the carrier's input). */
  serve: WorkloadPolicy;
  carrier: CarrierName;
  identity: { spiffeId: string; namespace: string; serviceAccount: string; certDir?: string };
  addresses: string[];
  /** The mark the rules let through and the data plane's dials carry: one number, from here. */
  bypassMark: number;
}

/**
 * The pure plan: workload + where its network is + config → target, redirection policy, serving
 * policy, identity and carrier. The HBONE port (served in the workload's own network) and the
 * app's probe ports are excluded from inbound capture here, so kubelet probes reach the app and
 * peers reach 15008 — nothing else, no port of the agent's; the bypass mark in the rules is the one the dials use.
 */
export function plan(workload: Workload, network: ResolvedNetwork, config: AgentConfig): WorkloadPlan {
  const carrier = workload.carrier ?? config.carrier;
  const { ports } = config;
  // The configured families its network has (a source may know it has no IPv6).
  const mine = config.families.filter((f) => !workload.families || workload.families.includes(f));
  const families = mine.length > 0 ? mine : config.families;
  // Only what the workload's own network serves (the carrier's own listeners, as it declares
  // them): the admin server lives in the agent's network, so excluding its port here would open
  // that port number to plaintext in every workload.
  const own = carrierPorts(carrier, ports);
  const proxyPorts = Object.values(own);
  const excludePorts = [...new Set([...proxyPorts, ...workload.probePorts])].sort((a, b) => a - b);
  const windows = network.target.kind === 'hns-endpoint';
  const policy: RedirectionPolicy = {
    id: AGENT_DEFAULTS.policyId,
    families,
    inbound: { port: ports.inbound, excludePorts },
    outbound: { port: ports.outbound },
    // HNS matches the proxy by the account it runs as; Linux by the socket mark of its dials.
    bypass: windows
      ? { userSid: config.bypass.userSid ?? AGENT_DEFAULTS.bypassUserSid }
      : { mark: config.bypass.mark },
  };
  const serve: WorkloadPolicy = {
    inbound: { port: ports.inbound, families },
    outbound: {
      port: ports.outbound,
      families,
      meshCidrs: config.meshCidrs,
      passthroughOutsideMesh: config.passthroughOutsideMesh,
    },
    ports: own,
  };
  const certDir = workload.certDir ?? certDirFor(workload, config);
  return {
    id: workload.id,
    target: network.target,
    policy,
    serve,
    carrier,
    identity: {
      spiffeId: formatSpiffeId({
        trustDomain: config.trustDomain,
        namespace: workload.namespace,
        serviceAccount: workload.serviceAccount,
      }),
      namespace: workload.namespace,
      serviceAccount: workload.serviceAccount,
      ...(certDir ? { certDir } : {}),
    },
    addresses: network.addresses,
    bypassMark: config.bypass.mark,
  };
}

/** The configured certificate directory with the workload's names filled in (none in CA mode). */
function certDirFor(w: Workload, config: AgentConfig): string | undefined {
  if (!('certDir' in config.identity)) return undefined;
  return config.identity.certDir
    .replaceAll('{namespace}', w.namespace)
    .replaceAll('{serviceAccount}', w.serviceAccount)
    .replaceAll('{name}', w.name);
}

/**
 * The carrier's own listeners (as it declares them in the registry), each on the port the
 * config names for it, or on the carrier's default.
 */
function carrierPorts(carrier: CarrierName, ports: AgentConfig['ports']): Record<string, number> {
  const listens = carrierCapabilities(carrier).listens ?? {};
  const configured = ports as Readonly<Record<string, number>>;
  return Object.fromEntries(
    Object.entries(listens).map(([name, port]): [string, number] => [name, configured[name] ?? port]),
  );
}
