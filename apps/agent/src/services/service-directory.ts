import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type {
  DestinationResolver,
  Endpoint,
  ServiceDestination,
  UnsyncedDestination,
} from '@switchyard/dataplane';
import type { PeerIdentity } from '../identity/peer-identities.js';
import { type CompactService, type CompactSlice, compactService, compactSlice } from './compact.js';
import { buildIndex, type KnownPod, type ServiceIndex, vipKey } from './service-index.js';
import { type ServiceReport, serviceReport } from './service-report.js';

const NOT_SYNCED: UnsyncedDestination = Object.freeze({ kind: 'not-synced' });

/**
 * The agent's {@link DestinationResolver}: Services, their EndpointSlices and the pods behind
 * them, kept compactly (virtual addresses, TCP ports, endpoint addresses, conditions and pod
 * names: nothing else of the objects), and an index from ClusterIP:port to the endpoints that
 * may take new connections, rebuilt whole on every change so a lookup is one map read.
 */
export class ServiceDirectory implements DestinationResolver {
  readonly #trustDomain: string;
  #services = new Map<string, CompactService>();
  #slices = new Map<string, CompactSlice[]>();
  #pods = new Map<string, KnownPod>();
  #index: ServiceIndex = new Map();
  /** Set by the first {@link ServiceDirectory.replace}: until then every lookup is `not-synced`. */
  #synced = false;

  constructor(trustDomain: string) {
    this.#trustDomain = trustDomain;
  }

  /**
   * The Service at a ClusterIP and port and its usable endpoints now, or undefined: one map read.
   * Before the first Service list, `not-synced`: no address can be told apart from a ClusterIP.
   */
  resolve(destination: Endpoint): ServiceDestination | UnsyncedDestination | undefined {
    if (!this.#synced) return NOT_SYNCED;
    return this.#index.get(vipKey(destination.address, destination.port));
  }

  /** Whether the Services have been listed once (lookups answer). */
  get synced(): boolean {
    return this.#synced;
  }

  /** How many Services it knows (headless ones included). */
  get size(): number {
    return this.#services.size;
  }

  /** Replaces the Services and EndpointSlices (as the watch lists them) and rebuilds the index. */
  replace(services: readonly V1Service[], slices: readonly V1EndpointSlice[]): void {
    const nextServices = new Map<string, CompactService>();
    for (const s of services) {
      const c = compactService(s);
      if (c) nextServices.set(`${c.namespace}/${c.name}`, c);
    }
    const nextSlices = new Map<string, CompactSlice[]>();
    for (const s of slices) {
      const c = compactSlice(s);
      if (!c) continue;
      const key = `${c.namespace}/${c.service}`;
      nextSlices.set(key, [...(nextSlices.get(key) ?? []), c]);
    }
    this.#services = nextServices;
    this.#slices = nextSlices;
    this.#synced = true;
    this.#rebuild();
  }

  /** Replaces the pods (from the pod watch: address → pod) and rebuilds the index. */
  pods(peers: ReadonlyMap<string, PeerIdentity>): void {
    const next = new Map<string, KnownPod>();
    for (const [address, p] of peers) {
      if (!p.pod) continue;
      const key = `${p.namespace}/${p.pod}`;
      const known = next.get(key);
      if (known) (known.addresses as string[]).push(address);
      else
        next.set(key, {
          namespace: p.namespace,
          serviceAccount: p.serviceAccount,
          inMesh: p.inMesh === true,
          addresses: [address],
        });
    }
    this.#pods = next;
    this.#rebuild();
  }

  /** What `status --service NS/NAME` shows, or undefined for a Service the agent does not know. */
  /** The Services known, `namespace/name`, sorted. */
  names(): string[] {
    return [...this.#services.keys()].sort();
  }

  report(id: string): ServiceReport | undefined {
    const service = this.#services.get(id);
    if (!service) return undefined;
    return serviceReport(service, this.#slices.get(id) ?? [], {
      pods: this.#pods,
      trustDomain: this.#trustDomain,
    });
  }

  #rebuild(): void {
    this.#index = buildIndex({
      services: this.#services.values(),
      slices: this.#slices,
      pods: this.#pods,
      trustDomain: this.#trustDomain,
    });
  }
}
