import type { KubeConfig, V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { Logger } from '@switchyard/dataplane';
import { type Informer, informer } from '../sources/kube-informer.js';
import type { ServiceDirectory } from './service-directory.js';

/** The Service and EndpointSlice watch that keeps a {@link ServiceDirectory} current. */
export interface ServiceWatch {
  /** Lists both kinds (retrying until the API answers), fills the directory, then follows changes. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Informers on every Service (`/api/v1/services`) and EndpointSlice
 * (`/apis/discovery.k8s.io/v1/endpointslices`) through `@kubernetes/client-node`. A burst of
 * events is folded into one rebuild on the next turn of the event loop: a change is in force
 * long before the 1 s the data plane promises.
 */
export function serviceWatch(kc: KubeConfig, directory: ServiceDirectory, logger: Logger): ServiceWatch {
  let services: Informer<V1Service> | undefined;
  let slices: Informer<V1EndpointSlice> | undefined;
  let pending: NodeJS.Immediate | undefined;
  let ready = false;
  let stopped = false;
  const apply = () => {
    pending = undefined;
    if (services && slices) directory.replace(services.list(), slices.list());
  };
  const changed = () => {
    if (ready) pending ??= setImmediate(apply);
  };
  return {
    async start() {
      const k8s = await import('@kubernetes/client-node');
      const core = kc.makeApiClient(k8s.CoreV1Api);
      const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
      services = await informer<V1Service>(
        kc,
        '/api/v1/services',
        () => core.listServiceForAllNamespaces(),
        changed,
        logger,
      );
      slices = await informer<V1EndpointSlice>(
        kc,
        '/apis/discovery.k8s.io/v1/endpointslices',
        () => discovery.listEndpointSliceForAllNamespaces(),
        changed,
        logger,
      );
      await Promise.all([services.start(), slices.start()]);
      if (stopped) return; // stopped while the first list was still being fetched
      ready = true;
      apply();
      logger.info('watching services', { services: directory.size });
    },
    async stop() {
      stopped = true;
      ready = false;
      if (pending) clearImmediate(pending);
      await Promise.all([services?.stop(), slices?.stop()]);
    },
  };
}
