import type { KubernetesObject, ListWatch } from '@kubernetes/client-node';

/**
 * Where an informer's objects live when the caller keeps them in an index of its own: the
 * informer then holds no copy, and asks the store only what a list/watch needs of a cache —
 * whether an object is known, its resourceVersion (an unchanged object is no update), and every
 * name (a relist after 410 Gone deletes the objects it no longer lists). The store itself is
 * changed by the caller's add/update/delete handlers, never by the informer.
 */
export interface InformerStore {
  has(namespace: string, name: string): boolean;
  /** The resourceVersion kept for the object, when it had one. */
  version(namespace: string, name: string): string | undefined;
  /** The namespaces holding objects (`''` for cluster-scoped ones). */
  namespaces(): Iterable<string>;
  names(namespace: string): Iterable<string>;
}

/** What a ListWatch reads of a kept object: its name, namespace and resourceVersion. */
type Stub = KubernetesObject & { metadata: { name: string; namespace: string } };

const stub = (store: InformerStore, namespace: string, name: string): Stub => ({
  metadata: { name, namespace, resourceVersion: store.version(namespace, name) },
});

/**
 * One namespace of the store as the ListWatch's per-namespace map. Writes are no-ops (the
 * handlers write); `delete` only says whether the object is known, so the delete handler runs.
 */
class NamespaceView {
  readonly #store: InformerStore;
  readonly #namespace: string;

  constructor(store: InformerStore, namespace: string) {
    this.#store = store;
    this.#namespace = namespace;
  }

  /** Only whether it is empty is read (to drop an empty namespace): 1 or 0. */
  get size(): number {
    for (const _ of this.#store.names(this.#namespace)) return 1;
    return 0;
  }

  has(name: string): boolean {
    return this.#store.has(this.#namespace, name);
  }

  get(name: string): Stub | undefined {
    return this.has(name) ? stub(this.#store, this.#namespace, name) : undefined;
  }

  set(): this {
    return this;
  }

  delete(name: string): boolean {
    return this.has(name);
  }

  *entries(): Generator<[string, Stub]> {
    for (const name of this.#store.names(this.#namespace))
      yield [name, stub(this.#store, this.#namespace, name)];
  }

  *values(): Generator<Stub> {
    for (const [, o] of this.entries()) yield o;
  }

  forEach(f: (o: Stub, name: string) => void): void {
    for (const [name, o] of this.entries()) f(o, name);
  }
}

/** The store as the ListWatch's namespace → name → object map (every namespace has a view). */
class StoreCache {
  readonly #store: InformerStore;

  constructor(store: InformerStore) {
    this.#store = store;
  }

  get(namespace: string): NamespaceView {
    return new NamespaceView(this.#store, namespace);
  }

  set(): this {
    return this;
  }

  delete(): boolean {
    return false;
  }

  *entries(): Generator<[string, NamespaceView]> {
    for (const namespace of [...this.#store.namespaces()]) yield [namespace, this.get(namespace)];
  }

  *values(): Generator<NamespaceView> {
    for (const [, view] of this.entries()) yield view;
  }
}

/**
 * Makes a ListWatch keep its objects in `store` instead of its own cache. ListWatch (of the pinned
 * `@kubernetes/client-node`) reads and writes its cache only through the map methods
 * {@link StoreCache} and {@link NamespaceView} answer; the informer tests' relist after 410 Gone
 * proves it still diffs through the store.
 */
export function keepIn<T extends KubernetesObject>(lw: ListWatch<T>, store: InformerStore): void {
  (lw as unknown as { objects: unknown }).objects = new StoreCache(store);
}
