import type { Logger } from '@switchyard/dataplane';
import { backoffDelay } from '../reconcile/backoff.js';
import { DOCKER_CALL_TIMEOUT_MS, type DockerApi, dockerUnavailable } from './docker-client.js';
import { containerFromInspect, containerFromList, type DockerContainer } from './docker-container.js';
import { containerOfEvent, type DockerEvent, readEvents, WATCHED_EVENTS } from './docker-events.js';

/** Options of {@link DockerWatcher}. */
export interface DockerWatcherOptions {
  /** The connected Engine API client. */
  docker: DockerApi;
  /** The socket it talks to, for messages. */
  socket: string;
  /** Label keys: a running container carrying any of them is watched. */
  labels: readonly string[];
  logger: Logger;
  /** Reconnect backoff after the event stream breaks: first delay and the most it grows to, ms. */
  retry: { initialMs: number; maxMs: number };
  /** A full relist this often even while the stream looks healthy, ms (a silent half-dead stream). */
  resyncMs: number;
  /** Whose containers these are (where their networks live). Default this process's platform. */
  platform?: NodeJS.Platform;
}

/** A stalled daemon fails a call rather than stalling the watcher. */
const deadline = () => AbortSignal.timeout(DOCKER_CALL_TIMEOUT_MS);

type EventStream = NodeJS.ReadableStream & { destroy?: () => void };

/** Told every time the set of watched running containers (or one's addresses) changes. */
export type ContainersListener = (containers: readonly DockerContainer[]) => void;

/**
 * Keeps the set of running containers that carry one of the watched labels, from Docker's
 * Engine API: it subscribes to the event stream first and then lists, so nothing that happens
 * between the two is lost; every event re-inspects the container it names. When the stream ends
 * or fails it reconnects with backoff and relists, so changes made while it was cut arrive as one
 * resync. A restarted agent starts from a full list: it misses nothing either.
 */
export class DockerWatcher {
  readonly #o: DockerWatcherOptions;
  readonly #containers = new Map<string, DockerContainer>();
  readonly #listeners = new Set<ContainersListener>();
  #stream: EventStream | undefined;
  #chain: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #resync: NodeJS.Timeout | undefined;
  #attempt = 0;
  #reconnecting = false;
  #closed = false;
  /** Completed full syncs (the first, and one after every reconnect). */
  syncs = 0;

  constructor(options: DockerWatcherOptions) {
    this.#o = options;
  }

  /**
   * Starts watching; resolves after the first full list was delivered (to `listener` when given).
   *
   * @throws RuntimeUnavailableError when the first list fails (later failures are retried).
   */
  async start(listener?: ContainersListener): Promise<void> {
    if (listener) this.#listeners.add(listener);
    try {
      await this.#connect();
    } catch (error) {
      this.#closed = true; // no reconnects behind a start that failed
      throw error;
    }
    this.#resync = setInterval(() => this.#queue(() => this.#relist()), this.#o.resyncMs);
    this.#resync.unref();
  }

  /**
   * Tells `listener` of every change from now on, and at once of the containers now when the
   * first list is done: one watcher (one event stream, one relist) serves several consumers of
   * the same daemon. Returns the way to stop listening.
   */
  listen(listener: ContainersListener): () => void {
    this.#listeners.add(listener);
    if (this.syncs > 0) listener(this.containers());
    return () => this.#listeners.delete(listener);
  }

  /**
   * A container the runtime is starting (before Docker reports it running), if it carries a
   * watched label. Listed, not inspected: Docker holds a starting container's lock, and an
   * inspect would wait for the start that waits for this answer.
   */
  async starting(id: string, pid: number): Promise<DockerContainer | undefined> {
    const [c] = await this.#o.docker.listContainers({
      all: true,
      filters: { id: [id] },
      abortSignal: deadline(),
    });
    if (!c || c.Id !== id || !this.#o.labels.some((l) => l in (c.Labels ?? {}))) return undefined;
    return containerFromList(c, pid, this.#o.platform);
  }

  /** The watched containers now, by name. */
  containers(): DockerContainer[] {
    return [...this.#containers.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Stops the stream and every timer. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#resync);
    this.#stream?.destroy?.();
    await this.#chain;
  }

  async #connect(): Promise<void> {
    const { docker, socket } = this.#o;
    try {
      const stream = (await docker.getEvents({
        filters: { type: [...WATCHED_EVENTS.type], event: [...WATCHED_EVENTS.event] },
      })) as EventStream;
      this.#stream = stream;
      let ended = false;
      const broken = (why: string) => {
        if (ended) return;
        ended = true;
        this.#broken(why);
      };
      stream.on('error', (error: Error) => broken(error.message));
      stream.on('end', () => broken('the daemon ended the event stream'));
      stream.on('close', () => broken('the event stream closed'));
      readEvents(
        stream,
        (event) => this.#queue(() => this.#onEvent(event)),
        (line) =>
          this.#o.logger.debug('docker event that is not JSON, skipped', { line: line.slice(0, 200) }),
        broken,
      );
      await this.#serial(() => this.#relist());
      this.#attempt = 0;
    } catch (cause) {
      this.#stream?.destroy?.();
      throw dockerUnavailable(socket, cause);
    }
  }

  #broken(why: string): void {
    if (this.#closed || this.#reconnecting) return;
    this.#reconnecting = true;
    const delay = backoffDelay(++this.#attempt, this.#o.retry.initialMs, this.#o.retry.maxMs);
    this.#o.logger.warn('docker event stream broke; resyncing', { reason: why, retryInMs: delay });
    this.#timer = setTimeout(() => {
      this.#reconnecting = false;
      this.#connect().catch((error: Error) => {
        this.#o.logger.warn('docker resync failed', { reason: error.message });
        this.#broken(error.message);
      });
    }, delay);
  }

  /** Runs a step after the ones before it, so an event never races a relist; its failure is thrown. */
  #serial(step: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(step);
    this.#chain = run.catch(() => undefined); // the caller gets the failure; the next step still runs
    return run;
  }

  /** Like {@link #serial} for steps nobody waits for: a failure is logged (the next resync repairs it). */
  #queue(step: () => Promise<void>): void {
    this.#chain = this.#chain
      .then(step)
      .catch((error: Error) => this.#o.logger.warn('docker update failed', { reason: error.message }));
  }

  async #relist(): Promise<void> {
    if (this.#closed) return;
    const { docker, labels } = this.#o;
    const ids = new Set<string>();
    // Docker ANDs several label filters, so one list per label gives "any of them".
    for (const label of labels)
      for (const c of await docker.listContainers({ filters: { label: [label] }, abortSignal: deadline() }))
        ids.add(c.Id);
    const fresh = new Map<string, DockerContainer>();
    for (const id of ids) {
      const container = await this.#inspect(id);
      if (container) fresh.set(id, container);
    }
    const changed = !sameContainers(this.#containers, fresh);
    this.#containers.clear();
    for (const [id, c] of fresh) this.#containers.set(id, c);
    this.syncs++;
    if (changed || this.syncs === 1) this.#emit();
  }

  async #onEvent(event: DockerEvent): Promise<void> {
    const id = containerOfEvent(event);
    if (!id || this.#closed) return;
    const container = await this.#inspect(id);
    const before = this.#containers.get(id);
    if (container) this.#containers.set(id, container);
    else this.#containers.delete(id);
    if (JSON.stringify(before) !== JSON.stringify(container)) this.#emit();
  }

  #emit(): void {
    const now = this.containers();
    for (const listener of this.#listeners) listener(now);
  }

  /** The container if it runs and carries a watched label; undefined once it is gone. */
  async #inspect(id: string): Promise<DockerContainer | undefined> {
    try {
      const info = await this.#o.docker.getContainer(id).inspect({ abortSignal: deadline() });
      const c = containerFromInspect(info, this.#o.platform);
      return c && this.#o.labels.some((l) => l in c.labels) ? c : undefined;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }
}

function sameContainers(a: Map<string, DockerContainer>, b: Map<string, DockerContainer>): boolean {
  if (a.size !== b.size) return false;
  for (const [id, c] of b) if (JSON.stringify(a.get(id)) !== JSON.stringify(c)) return false;
  return true;
}
