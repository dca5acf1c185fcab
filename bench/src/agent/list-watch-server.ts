import { createServer, type ServerResponse } from 'node:http';

/** An object as the API server holds it (only what this server reads of it is typed). */
export interface ApiObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  spec?: { nodeName?: string; [k: string]: unknown };
  [k: string]: unknown;
}

interface Stored {
  path: string;
  key: string;
  json: string;
}

interface Watch {
  path: string;
  node?: string;
  res: ServerResponse;
}

/** The collections served, by list path. */
const KINDS: Record<string, { kind: string; apiVersion: string }> = {
  '/api/v1/pods': { kind: 'Pod', apiVersion: 'v1' },
  '/api/v1/namespaces': { kind: 'Namespace', apiVersion: 'v1' },
  '/api/v1/services': { kind: 'Service', apiVersion: 'v1' },
  '/apis/discovery.k8s.io/v1/endpointslices': { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1' },
  '/apis/security.istio.io/v1/authorizationpolicies': {
    kind: 'AuthorizationPolicy',
    apiVersion: 'security.istio.io/v1',
  },
  '/apis/security.istio.io/v1/peerauthentications': {
    kind: 'PeerAuthentication',
    apiVersion: 'security.istio.io/v1',
  },
};

/**
 * The benchmark's own Kubernetes list/watch server: cluster-wide lists (paged with `limit` and
 * `continue`, `spec.nodeName` field selector), and watches from a resourceVersion with bookmarks.
 * Objects are kept as JSON text, so the server's own memory stays small beside the agent's and
 * a change is written to the watches at once (its time is the start of change-to-effect).
 */
export class ListWatchServer {
  #rv = 1;
  readonly #objects = new Map<string, Map<string, Stored>>();
  readonly #watches = new Set<Watch>();
  readonly #server = createServer((req, res) => this.#handle(req.url ?? '/', res));
  #port = 0;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#port = (this.#server.address() as { port: number }).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Creates or replaces an object under a list path; open watches get the event now. */
  put(path: string, object: ApiObject): void {
    const meta = KINDS[path];
    if (!meta) throw new Error(`not a served collection: ${path}`);
    const key = `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    const objects = this.#objects.get(path) ?? new Map<string, Stored>();
    this.#objects.set(path, objects);
    const type = objects.has(key) ? 'MODIFIED' : 'ADDED';
    object.metadata.resourceVersion = String(++this.#rv);
    const json = JSON.stringify({ kind: meta.kind, apiVersion: meta.apiVersion, ...object });
    objects.set(key, { path, key, json });
    for (const w of this.#watches)
      if (w.path === path && (!w.node || object.spec?.nodeName === w.node))
        w.res.write(`{"type":"${type}","object":${json}}\n`);
  }

  async close(): Promise<void> {
    for (const w of this.#watches) w.res.destroy();
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #handle(url: string, res: ServerResponse): void {
    const u = new URL(url, 'http://bench');
    const meta = KINDS[u.pathname];
    if (!meta)
      return void res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"kind":"Status","code":404}');
    const node = /^spec\.nodeName=(.*)$/.exec(u.searchParams.get('fieldSelector') ?? '')?.[1];
    if (u.searchParams.get('watch') === 'true') return void this.#watch(u.pathname, node, res);
    const all = [...(this.#objects.get(u.pathname)?.values() ?? [])].filter(
      (o) => node === undefined || JSON.parse(o.json).spec?.nodeName === node,
    );
    const limit = Number(u.searchParams.get('limit') ?? 0);
    const from = Number(u.searchParams.get('continue') ?? 0);
    const page = limit > 0 ? all.slice(from, from + limit) : all;
    const more = limit > 0 && from + limit < all.length ? `,"continue":"${from + limit}"` : '';
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      `{"kind":"${meta.kind}List","apiVersion":"${meta.apiVersion}","metadata":{"resourceVersion":"${this.#rv}"${more}},"items":[${page.map((o) => o.json).join(',')}]}`,
    );
  }

  #watch(path: string, node: string | undefined, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // Headers now: a client waits for them before it counts the watch as open.
    res.flushHeaders();
    const w: Watch = { path, ...(node ? { node } : {}), res };
    this.#watches.add(w);
    const bookmark = setInterval(
      () => res.write(`{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"${this.#rv}"}}}\n`),
      10_000,
    );
    res.once('close', () => {
      clearInterval(bookmark);
      this.#watches.delete(w);
    });
  }
}
