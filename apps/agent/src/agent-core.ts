import type { RedirectionDriver } from '@switchyard/core';
import { DataPlane, type Logger } from '@switchyard/dataplane';
import type { AgentConfig } from './config/agent-config.js';
import { identityProvider } from './identity/identity-provider.js';
import { PeerIdentities } from './identity/peer-identities.js';
import { type AgentMetrics, createAgentMetrics } from './ops/agent-metrics.js';
import { PolicyAuthorizer } from './policy/policy-authorizer.js';
import { PolicyStore } from './policy/policy-store.js';
import { AppliedJournal } from './reconcile/applied-journal.js';
import { Reconciler } from './reconcile/reconciler.js';
import { ServiceDirectory } from './services/service-directory.js';
import { type HnsNamespaceEndpoints, networkResolver } from './sources/resolve-network.js';

/** The agent's working parts, built once from the config: the one data plane and what drives it. */
export interface AgentCore {
  plane: DataPlane;
  reconciler: Reconciler;
  peers: PeerIdentities;
  metrics: AgentMetrics;
  /** Services and their endpoints (Kubernetes source): the data plane's destination resolver. */
  services?: ServiceDirectory;
  /** Istio policies (`policy.mode: istio`): what they are, and the data plane's inbound authorizer over them. */
  policy?: { store: PolicyStore; authorizer: PolicyAuthorizer };
  /** Closes what the core opened that the data plane and reconciler do not (the CRI client). */
  close(): void;
}

/**
 * Builds the data plane with the shared inputs (the driver's socket ops, the identity resolver,
 * the bypass mark the rules also use, limits, logger) and the reconciler over it.
 */
export function buildCore(
  config: AgentConfig,
  driver: RedirectionDriver,
  logger: Logger,
  hnsEndpoints?: HnsNamespaceEndpoints,
): AgentCore {
  let reconciler: Reconciler | undefined;
  const peers = new PeerIdentities(config.trustDomain, () => reconciler?.plans() ?? []);
  const services = config.source.kind === 'kubernetes' ? new ServiceDirectory(config.trustDomain) : undefined;
  const store =
    config.policy.mode === 'istio'
      ? new PolicyStore({
          rootNamespace: config.policy.rootNamespace,
          defaultMtls: config.policy.defaultMtls,
          logger: logger.child({ component: 'policy' }),
        })
      : undefined;
  let authorizer: PolicyAuthorizer | undefined;
  const plane = new DataPlane({
    ...(services ? { destinations: services } : {}),
    // Bound below, once the data plane's registry (where denials are counted) exists.
    ...(store
      ? {
          authorizer: {
            authorize: (r) => (authorizer as PolicyAuthorizer).authorize(r),
            plainAccepted: (r) => (authorizer as PolicyAuthorizer).plainAccepted(r),
          },
        }
      : {}),
    socketOps: driver.socketOps,
    identities: peers,
    identityFallback: config.identityFallback,
    logger,
    bypassMark: config.bypass.mark,
    accessLog: config.log.accessLog,
    timeouts: { drain: config.drainSeconds * 1000 },
    adminPort: config.admin.port,
  });
  if (store)
    authorizer = new PolicyAuthorizer(store, plane.metrics.registry, (id) => reconciler?.workload(id));
  const metrics = createAgentMetrics(plane.metrics.registry);
  const resolver = networkResolver(config.criEndpoint, hnsEndpoints);
  reconciler = new Reconciler({
    settings: config,
    workloads: { config, resolver, identities: identityProvider(config.identity, config.stateDir, logger) },
    driver,
    plane,
    journal: new AppliedJournal(config.stateDir),
    logger,
    metrics,
  });
  return {
    plane,
    reconciler,
    peers,
    metrics,
    ...(services ? { services } : {}),
    ...(store && authorizer ? { policy: { store, authorizer } } : {}),
    close: () => resolver.close(),
  };
}
