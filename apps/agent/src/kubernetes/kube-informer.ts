import type { KubeConfig, KubernetesListObject, KubernetesObject, ListWatch } from '@kubernetes/client-node';
import type { Logger } from '@switchyard/dataplane';
import type { AgentConfig } from '../config/agent-config.js';
import { AGENT_DEFAULTS } from '../config/defaults.js';
import { backoffDelay } from '../util/backoff.js';
import { loadKubeClient } from './kube-client.js';
import { kubeGet } from './kube-get.js';
import { type InformerStore, keepIn } from './store-cache.js';

/** How long an informer's watch may stay open before the server ends it (real informers pick 5–10 min). */
const WATCH_TIMEOUT_SECONDS = 300;

/** An informer over one list/watch path, restarted with backoff after errors. */
export interface Informer<T extends KubernetesObject> {
  /** The objects kept (with a {@link InformerOptions.store}: their name, namespace and resourceVersion only). */
  list(): readonly T[];
  /** Lists, then watches; resolves after the first list. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Objects per list page: a large cluster is read in pieces, never held as one response. */
const PAGE_SIZE = 500;

/** What changed: one object added, changed or deleted (also for each object a relist adds or drops). */
export type InformerEvent = 'add' | 'update' | 'delete';

/** Options of {@link informer}. */
export interface InformerOptions<T> {
  /**
   * Reduces each object on arrival (list items and watch events) to what the caller keeps: the
   * cache then holds only that. It must keep `metadata.name`, `namespace` and `resourceVersion`.
   */
  transform?: (object: T) => T;
  /**
   * Keeps the objects in the caller's index (filled by its handlers) instead of the informer's
   * own cache: the informer then holds no copy of them.
   */
  store?: InformerStore;
  /** The backoff after a failed list or watch: the agent's `retry`. Default `AGENT_DEFAULTS.retry`. */
  retry?: AgentConfig['retry'];
}

/**
 * `@kubernetes/client-node`'s ListWatch (list, then watch from the list's resourceVersion, relist
 * on 410 Gone), asking the server for bookmarks so a quiet watch keeps a fresh resourceVersion,
 * and restarted with backoff when the list or the watch fails (ListWatch stops on an error).
 * The backoff (`retry`: 250 ms doubling to 30 s by default) starts again only once a restarted watch delivers an
 * event: a watch that fails at once, or a list that succeeds before the watch fails, keeps it growing.
 * Lists are read in pages of 500, as JSON (no generated models), from the same path as the watch.
 */
export async function informer<T extends KubernetesObject>(
  kc: KubeConfig,
  path: string,
  onChange: (event: InformerEvent, object: T) => void,
  logger: Logger,
  fieldSelector?: string,
  options: InformerOptions<T> = {},
): Promise<Informer<T>> {
  const k8s = await loadKubeClient();
  const watch = new k8s.Watch(kc);
  const transform = options.transform;
  const retry = options.retry ?? AGENT_DEFAULTS.retry;
  let failures = 0;
  const withBookmarks = {
    watch: (
      p: string,
      query: Record<string, unknown>,
      cb: Parameters<typeof watch.watch>[2],
      done: Parameters<typeof watch.watch>[3],
    ) =>
      watch.watch(
        p,
        { ...query, allowWatchBookmarks: true, timeoutSeconds: WATCH_TIMEOUT_SECONDS },
        (phase, object, raw) => {
          // The watch works: the next failure backs off from the start again.
          failures = 0;
          const keep = transform && (phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED');
          cb(phase, keep ? transform(object) : object, raw);
        },
        done,
      ),
  };
  // Paged (a consistent snapshot, per the API's `continue`), each page reduced before the next is read.
  const listed = async (): Promise<KubernetesListObject<T>> => {
    const items: T[] = [];
    let first: KubernetesListObject<T> | undefined;
    let next: string | undefined;
    do {
      const page = await kubeGet<KubernetesListObject<T> & { metadata?: { continue?: string } }>(kc, path, {
        fieldSelector,
        limit: PAGE_SIZE,
        continue: next,
      });
      first ??= page;
      for (const o of page.items) items.push(transform ? transform(o) : o);
      next = page.metadata?.continue || undefined;
    } while (next);
    return { ...first, items };
  };
  const lw: ListWatch<T> = new k8s.ListWatch<T>(
    path,
    withBookmarks as typeof watch,
    listed,
    false,
    undefined,
    fieldSelector,
  );
  if (options.store) keepIn(lw, options.store);
  let stopped = false;
  let first = true;
  let lastError: unknown;
  let timer: NodeJS.Timeout | undefined;
  const delay = () => backoffDelay(++failures, retry.initialMs, retry.maxMs);
  lw.on('add', (o: T) => onChange('add', o));
  lw.on('update', (o: T) => onChange('update', o));
  lw.on('delete', (o: T) => onChange('delete', o));
  lw.on('connect', () => logger.debug('watch connected', { path }));
  lw.on('error', (error: unknown) => {
    lastError = error;
    if (stopped || first) return;
    const ms = delay();
    logger.warn('list/watch failed; retrying', { path, reason: reasonOf(error), retryInMs: ms });
    clearTimeout(timer);
    // ListWatch.start() clears its own stopped flag: a restart must never outlive stop().
    timer = setTimeout(() => {
      if (!stopped) void lw.start();
    }, ms);
  });
  return {
    list: () => lw.list(),
    // Until the first list succeeds there is no snapshot: an unreachable API must never read as "no pods".
    async start() {
      while (!stopped) {
        lastError = undefined;
        await lw.start();
        if (lastError === undefined || stopped) break;
        const ms = delay();
        logger.warn('cannot list yet; retrying', { path, reason: reasonOf(lastError), retryInMs: ms });
        await new Promise((resolve) => setTimeout(resolve, ms));
      }
      first = false;
      failures = 0;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await lw.stop();
    },
  };
}

function reasonOf(error: unknown): string {
  const e = error as { message?: string; statusCode?: number; code?: number };
  return e?.message || ((e?.statusCode ?? e?.code) ? `HTTP ${e.statusCode ?? e.code}` : String(error));
}
