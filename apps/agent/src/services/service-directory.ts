import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type {
  DestinationResolver,
  Endpoint,
  ServiceDestination,
  UnsyncedDestination,
} from '@switchyard/dataplane';
import { type CompactService, type CompactSlice, compactService, compactSlice } from './compact.js';
import { indexService, type PodOwners, vipKey } from './service-index.js';
import { type ServiceReport, serviceReport } from './service-report.js';

const NOT_SYNCED: UnsyncedDestination = Object.freeze({ kind: 'not-synced' });
const NO_PODS: PodOwners = { ownerOf: () => undefined };

/**
 * The agent's {@link DestinationResolver}: Services, their EndpointSlices and the pods behind
 * them, kept compactly (virtual addresses, TCP ports, endpoint addresses, conditions and pod
 * names: nothing else of the objects; the pods are the source's index, read in place), and an index from ClusterIP:port to the endpoints that
 * may take new connections, so a lookup is one map read. Each change re-indexes only the one
 * Service it touches (a pod change, the Services whose slices name that pod): the work per event
 * does not grow with the cluster.
 */
export class ServiceDirectory implements DestinationResolver {
  readonly #trustDomain: string;
  readonly #services = new Map<string, CompactService>();
  /** Slices by Service (`namespace/name`), each by its own `namespace/name`. */
  readonly #slices = new Map<string, Map<string, CompactSlice>>();
  /** The Service each slice belongs to (a slice's label may change). */
  readonly #sliceService = new Map<string, string>();
  /** The source's pods (its index, read, not copied); none until the source gives it. */
  #pods: PodOwners = NO_PODS;
  /** The Services whose slices name each pod, by namespace, then name: nearly always one, held without a list. */
  readonly #podServices = new Map<string, Map<string, string | string[]>>();
  readonly #index = new Map<string, ServiceDestination>();
  /** The index keys each Service holds. */
  readonly #keys = new Map<string, string[]>();
  /** Set once the Services were listed: until then every lookup is `not-synced`. */
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

  /** Lookups answer from now on (the first list of Services and slices is in). */
  markSynced(): void {
    this.#synced = true;
  }

  /** How many Services it knows (headless ones included). */
  get size(): number {
    return this.#services.size;
  }

  /** Replaces every Service and EndpointSlice (as a list gives them) and marks the directory synced. */
  replace(services: readonly V1Service[], slices: readonly V1EndpointSlice[]): void {
    for (const id of [...this.#services.keys()]) this.deleteService(id);
    for (const key of [...this.#sliceService.keys()]) this.deleteSlice(key);
    for (const s of services) this.upsertService(s);
    for (const s of slices) this.upsertSlice(s);
    this.#synced = true;
  }

  /** A Service added or changed: its entries are re-indexed. */
  upsertService(s: V1Service): void {
    const c = compactService(s);
    if (c) this.putService(c);
  }

  /** A Service, already compact (the watch keeps only this form). */
  putService(c: CompactService): void {
    const id = `${c.namespace}/${c.name}`;
    this.#services.set(id, c);
    this.#reindex(id);
  }

  /** A Service deleted (`namespace/name`): its entries go. */
  deleteService(id: string): void {
    this.#services.delete(id);
    this.#reindex(id);
  }

  /** An EndpointSlice added or changed: its Service (and a Service it left) is re-indexed. */
  upsertSlice(s: V1EndpointSlice): void {
    this.putSlice(`${s.metadata?.namespace}/${s.metadata?.name}`, compactSlice(s));
  }

  /** An EndpointSlice (`namespace/name`), already compact; undefined for one of no Service or of FQDNs. */
  putSlice(key: string, c: CompactSlice | undefined): void {
    if (!c) return void this.deleteSlice(key);
    const service = `${c.namespace}/${c.service}`;
    const before = this.#sliceService.get(key);
    if (before && before !== service) this.deleteSlice(key);
    this.#unlinkPods(key, service);
    const slices = this.#slices.get(service) ?? new Map<string, CompactSlice>();
    this.#slices.set(service, slices.set(key, c));
    this.#sliceService.set(key, service);
    for (const e of c.endpoints) if (e.pod) this.#link(e.pod.namespace, e.pod.name, service);
    this.#reindex(service);
  }

  /** An EndpointSlice deleted (`namespace/name`). */
  deleteSlice(key: string): void {
    const service = this.#sliceService.get(key);
    if (!service) return;
    this.#unlinkPods(key, service);
    this.#slices.get(service)?.delete(key);
    if (this.#slices.get(service)?.size === 0) this.#slices.delete(service);
    this.#sliceService.delete(key);
    this.#reindex(service);
  }

  /** Reads the pods from the source's index from now on (it stays current): every Service is re-indexed. */
  pods(index: PodOwners): void {
    this.#pods = index;
    for (const id of this.#services.keys()) this.#reindex(id);
  }

  /** Re-indexes only the Services whose slices name the pods that changed (the index has them already). */
  podsChanged(pods: Iterable<{ namespace: string; name: string }>): void {
    const touched = new Set<string>();
    for (const p of pods) this.#touch(p.namespace, p.name, touched);
    for (const service of touched) this.#reindex(service);
  }

  /** What `status --service NS/NAME` shows, or undefined for a Service the agent does not know. */
  /** The Services known, `namespace/name`, sorted. */
  names(): string[] {
    return [...this.#services.keys()].sort();
  }

  report(id: string): ServiceReport | undefined {
    const service = this.#services.get(id);
    if (!service) return undefined;
    return serviceReport(service, [...(this.#slices.get(id)?.values() ?? [])], {
      pods: this.#pods,
      trustDomain: this.#trustDomain,
    });
  }

  #touch(namespace: string, name: string, touched: Set<string>): void {
    const services = this.#podServices.get(namespace)?.get(name);
    if (typeof services === 'string') touched.add(services);
    else for (const service of services ?? []) touched.add(service);
  }

  #link(namespace: string, name: string, service: string): void {
    let pods = this.#podServices.get(namespace);
    if (!pods) {
      pods = new Map();
      this.#podServices.set(namespace, pods);
    }
    const known = pods.get(name);
    if (known === undefined) pods.set(name, service);
    else if (typeof known === 'string') {
      if (known !== service) pods.set(name, [known, service]);
    } else if (!known.includes(service)) known.push(service);
  }

  /** Forgets which pods a slice named (another slice of the Service may still name them: kept then). */
  #unlinkPods(key: string, service: string): void {
    const old = this.#slices.get(service)?.get(key);
    if (!old) return;
    const others = [...(this.#slices.get(service)?.values() ?? [])].filter((s) => s !== old);
    for (const e of old.endpoints) {
      if (!e.pod) continue;
      const { namespace, name } = e.pod;
      if (others.some((s) => s.endpoints.some((x) => x.pod?.name === name && x.pod?.namespace === namespace)))
        continue;
      const pods = this.#podServices.get(namespace);
      const known = pods?.get(name);
      const left = typeof known === 'string' ? [known] : (known ?? []);
      const rest = left.filter((s) => s !== service);
      if (rest.length > 1) pods?.set(name, rest);
      else if (rest.length === 1) pods?.set(name, rest[0] as string);
      else pods?.delete(name);
      if (pods?.size === 0) this.#podServices.delete(namespace);
    }
  }

  /** Replaces one Service's entries of the index. */
  #reindex(id: string): void {
    // Only its own entries: another Service may have taken the address since.
    for (const key of this.#keys.get(id) ?? [])
      if (this.#index.get(key)?.service === id) this.#index.delete(key);
    this.#keys.delete(id);
    const service = this.#services.get(id);
    if (!service) return;
    const entries = indexService(service, [...(this.#slices.get(id)?.values() ?? [])], {
      pods: this.#pods,
      trustDomain: this.#trustDomain,
    });
    for (const [key, destination] of entries) this.#index.set(key, destination);
    this.#keys.set(
      id,
      entries.map(([key]) => key),
    );
  }
}
