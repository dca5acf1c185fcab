import type { KubeConfig, V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { Logger } from '@switchyard/dataplane';
import type { AgentConfig } from '../config/agent-config.js';
import { type Informer, type InformerEvent, informer } from '../kubernetes/kube-informer.js';
import type { CompactService, CompactSlice } from './compact.js';
import type { ServiceDirectory } from './service-directory.js';
import { compactOf, keptService, keptSlice } from './service-transforms.js';

/** The Service and EndpointSlice watch that keeps a {@link ServiceDirectory} current. */
export interface ServiceWatch {
  /** Lists both kinds (retrying until the API answers), fills the directory, then follows changes. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) =>
  `${o.metadata?.namespace}/${o.metadata?.name}`;

/**
 * Informers on every Service (`/api/v1/services`) and EndpointSlice
 * (`/apis/discovery.k8s.io/v1/endpointslices`) through `@kubernetes/client-node`, each object
 * reduced on arrival to the fields routing reads. Each event updates its one object in the
 * directory, which re-indexes that one Service at once: a change is in force as soon as its
 * event is read, and costs the same in a large cluster as in a small one. A failed list or
 * watch is retried with the agent's `retry` backoff.
 */
export function serviceWatch(
  kc: KubeConfig,
  directory: ServiceDirectory,
  logger: Logger,
  retry?: AgentConfig['retry'],
): ServiceWatch {
  let services: Informer<V1Service> | undefined;
  let slices: Informer<V1EndpointSlice> | undefined;
  let stopped = false;
  const onService = (event: InformerEvent, s: V1Service) => {
    if (stopped) return;
    const c = compactOf<CompactService>(s);
    if (event === 'delete') directory.deleteService(keyOf(s));
    else if (c) directory.putService(c);
  };
  const onSlice = (event: InformerEvent, s: V1EndpointSlice) => {
    if (stopped) return;
    if (event === 'delete') directory.deleteSlice(keyOf(s));
    else directory.putSlice(keyOf(s), compactOf<CompactSlice>(s));
  };
  return {
    async start() {
      services = await informer<V1Service>(kc, '/api/v1/services', onService, logger, undefined, {
        transform: keptService,
        ...(retry ? { retry } : {}),
      });
      slices = await informer<V1EndpointSlice>(
        kc,
        '/apis/discovery.k8s.io/v1/endpointslices',
        onSlice,
        logger,
        undefined,
        { transform: keptSlice, ...(retry ? { retry } : {}) },
      );
      await Promise.all([services.start(), slices.start()]);
      if (stopped) return; // stopped while the first list was still being fetched
      directory.markSynced();
      logger.info('watching services', { services: directory.size });
    },
    async stop() {
      stopped = true;
      await Promise.all([services?.stop(), slices?.stop()]);
    },
  };
}
