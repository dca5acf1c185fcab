import type { KubeConfig, KubernetesListObject, KubernetesObject, ListWatch } from '@kubernetes/client-node';
import type { Logger } from '@switchyard/dataplane';
import { backoffDelay } from '../util/backoff.js';

/** How long an informer's watch may stay open before the server ends it (real informers pick 5–10 min). */
const WATCH_TIMEOUT_SECONDS = 300;
const RETRY = { initialMs: 250, maxMs: 30_000 };

/** An informer over one list/watch path, restarted with backoff after errors. */
export interface Informer<T extends KubernetesObject> {
  list(): readonly T[];
  /** Lists, then watches; resolves after the first list. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `@kubernetes/client-node`'s ListWatch (list, then watch from the list's resourceVersion, relist
 * on 410 Gone), asking the server for bookmarks so a quiet watch keeps a fresh resourceVersion,
 * and restarted with backoff when the list or the watch fails (ListWatch stops on an error).
 */
export async function informer<T extends KubernetesObject>(
  kc: KubeConfig,
  path: string,
  list: () => Promise<KubernetesListObject<T>>,
  onChange: () => void,
  logger: Logger,
  fieldSelector?: string,
): Promise<Informer<T>> {
  const k8s = await import('@kubernetes/client-node');
  const watch = new k8s.Watch(kc);
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
        cb,
        done,
      ),
  };
  const lw: ListWatch<T> = new k8s.ListWatch<T>(
    path,
    withBookmarks as typeof watch,
    list,
    false,
    undefined,
    fieldSelector,
  );
  let failures = 0;
  let stopped = false;
  let first = true;
  let lastError: unknown;
  let timer: NodeJS.Timeout | undefined;
  const delay = () => backoffDelay(++failures, RETRY.initialMs, RETRY.maxMs);
  lw.on('add', onChange);
  lw.on('update', onChange);
  lw.on('delete', onChange);
  lw.on('connect', () => logger.debug('watch connected', { path }));
  lw.on('error', (error: unknown) => {
    lastError = error;
    if (stopped || first) return;
    const ms = delay();
    logger.warn('list/watch failed; retrying', { path, reason: reasonOf(error), retryInMs: ms });
    clearTimeout(timer);
    // ListWatch.start() clears its own stopped flag: a restart must never outlive stop().
    timer = setTimeout(() => {
      if (!stopped) void lw.start().then(() => (failures = 0));
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
