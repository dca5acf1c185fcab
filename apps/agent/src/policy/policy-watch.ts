import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '@switchyard/dataplane';
import type { AgentConfig } from '../config/agent-config.js';
import { type Informer, informer } from '../kubernetes/kube-informer.js';
import type { PolicyKind, PolicyStore } from './policy-store.js';

/** The group, version and plural of each policy kind the agent watches. */
const RESOURCES: readonly { kind: PolicyKind; plural: string }[] = [
  { kind: 'AuthorizationPolicy', plural: 'authorizationpolicies' },
  { kind: 'PeerAuthentication', plural: 'peerauthentications' },
];
const GROUP = 'security.istio.io';
const VERSION = 'v1';

/** The watch of Istio's security policies that keeps a {@link PolicyStore} current. */
export interface PolicyWatch {
  /** Lists both kinds (retrying until the API answers), then follows each object's changes. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

type PolicyObject = KubernetesObject & { spec?: unknown };

/** What the store reads of a policy object: its name, namespace, creation time, dry-run annotation and spec. */
function keep(o: PolicyObject): PolicyObject {
  const m = o.metadata ?? {};
  const dryRun = m.annotations?.['istio.io/dry-run'];
  return {
    metadata: {
      name: m.name,
      namespace: m.namespace,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
      ...(dryRun !== undefined ? { annotations: { 'istio.io/dry-run': dryRun } } : {}),
    },
    spec: o.spec,
  } as PolicyObject;
}

/**
 * Informers on `security.istio.io/v1` AuthorizationPolicies and PeerAuthentications (custom
 * objects, through `@kubernetes/client-node`, with the backoff and 410 handling of every other
 * watch). Each event changes its one object in the store. The store is marked synced once both
 * kinds are listed; until then the authorizer refuses every connection. A failed list or watch is
 * retried with the agent's `retry` backoff.
 */
export function policyWatch(
  kc: KubeConfig,
  store: PolicyStore,
  logger: Logger,
  retry?: AgentConfig['retry'],
): PolicyWatch {
  const informers: Informer<PolicyObject>[] = [];
  return {
    async start() {
      for (const { kind, plural } of RESOURCES)
        informers.push(
          await informer<PolicyObject>(
            kc,
            `/apis/${GROUP}/${VERSION}/${plural}`,
            (event, o) => {
              if (event === 'delete') store.remove(kind, `${o.metadata?.namespace}/${o.metadata?.name}`);
              else store.upsert(kind, o);
            },
            logger,
            undefined,
            { transform: keep, ...(retry ? { retry } : {}) },
          ),
        );
      await Promise.all(informers.map((i) => i.start()));
      store.synced = true;
      logger.info('watching policies', store.size);
    },
    async stop() {
      await Promise.all(informers.map((i) => i.stop()));
    },
  };
}
