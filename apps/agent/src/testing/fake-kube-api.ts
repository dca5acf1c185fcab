import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseSelector } from './selectors.js';

/** The kinds the fake serves. */
export type Kind =
  | 'pods'
  | 'namespaces'
  | 'services'
  | 'endpointslices'
  | 'authorizationpolicies'
  | 'peerauthentications';
type KubeObject = {
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
};
interface Event {
  rv: number;
  kind: Kind;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}
interface Watcher {
  kind: Kind;
  namespace?: string;
  matches: (o: KubeObject) => boolean;
  res: ServerResponse;
}

const KINDS = {
  pods: { kind: 'Pod', namespaced: true, apiVersion: 'v1' },
  namespaces: { kind: 'Namespace', namespaced: false, apiVersion: 'v1' },
  services: { kind: 'Service', namespaced: true, apiVersion: 'v1' },
  endpointslices: { kind: 'EndpointSlice', namespaced: true, apiVersion: 'discovery.k8s.io/v1' },
  authorizationpolicies: {
    kind: 'AuthorizationPolicy',
    namespaced: true,
    apiVersion: 'security.istio.io/v1',
  },
  peerauthentications: { kind: 'PeerAuthentication', namespaced: true, apiVersion: 'security.istio.io/v1' },
} as const;

/**
 * A Kubernetes API server for tests, speaking the real wire format for pods, namespaces, services,
 * endpointslices (`discovery.k8s.io/v1`) and Istio's authorizationpolicies and peerauthentications
 * (`security.istio.io/v1`, custom resources): JSON
 * lists with a resourceVersion, `?watch=true` streams of ADDED/MODIFIED/DELETED/BOOKMARK/ERROR
 * lines from a resourceVersion, 410 Gone (as an ERROR event) for one older than the history kept,
 * field and label selectors, paged lists (`limit` and `continue`), and the discovery documents
 * kubectl reads first.
 */
export class FakeKubeApi {
  readonly requests: string[] = [];
  /** How many list pages (`limit` given) were answered. */
  pages = 0;
  /** How many watches were answered 410 Gone. */
  expired = 0;
  /** Kinds this client may not read (answered 403, as RBAC does). */
  readonly forbidden = new Set<Kind>();
  /** While true, every request is answered 503 (the API server is down). */
  unavailable = false;
  #rv = 100;
  #compactedBefore = 0;
  readonly #store: Record<Kind, Map<string, KubeObject>> = {
    pods: new Map(),
    namespaces: new Map(),
    services: new Map(),
    endpointslices: new Map(),
    authorizationpolicies: new Map(),
    peerauthentications: new Map(),
  };
  readonly #history: Event[] = [];
  readonly #watchers = new Set<Watcher>();
  readonly #server = createServer((req, res) => this.#handle(req, res));
  readonly #bookmarkMs: number;
  #port = 0;

  constructor(options: { bookmarkMs?: number } = {}) {
    this.#bookmarkMs = options.bookmarkMs ?? 1000;
  }

  /** Listens on a free loopback port. */
  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#port = (this.#server.address() as { port: number }).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** The current resourceVersion. */
  get resourceVersion(): string {
    return String(this.#rv);
  }

  /** Creates or replaces an object (a new resourceVersion), telling the watches. */
  put(kind: Kind, object: KubeObject): KubeObject {
    const key = keyOf(object);
    const type = this.#store[kind].has(key) ? 'MODIFIED' : 'ADDED';
    const stored = structuredClone(object);
    stored.metadata.resourceVersion = String(++this.#rv);
    stored.metadata.uid ??= `uid-${key.replace('/', '-')}`;
    stored.metadata.creationTimestamp ??= new Date().toISOString();
    this.#store[kind].set(key, stored);
    this.#publish({ rv: this.#rv, kind, type, object: stored });
    return stored;
  }

  /** Deletes an object, telling the watches. */
  delete(kind: Kind, namespace: string | undefined, name: string): void {
    const key = namespace ? `${namespace}/${name}` : name;
    const gone = this.#store[kind].get(key);
    if (!gone) return;
    this.#store[kind].delete(key);
    const last = structuredClone(gone);
    last.metadata.resourceVersion = String(++this.#rv);
    this.#publish({ rv: this.#rv, kind, type: 'DELETED', object: last });
  }

  /** Forgets the history so far: a watch from an older resourceVersion gets 410 Gone. */
  compact(): void {
    this.#compactedBefore = this.#rv;
    this.#history.length = 0;
  }

  /** Ends every open watch, as an API server restart does. */
  dropWatches(): void {
    for (const w of this.#watchers) w.res.destroy();
    this.#watchers.clear();
  }

  async close(): Promise<void> {
    this.dropWatches();
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #publish(event: Event): void {
    this.#history.push(event);
    for (const w of this.#watchers)
      if (w.kind === event.kind && this.#visible(w, event.object))
        send(w.res, event.type, withKind(event.kind, event.object));
  }

  #visible(
    w: { kind: Kind; namespace?: string; matches: (o: KubeObject) => boolean },
    o: KubeObject,
  ): boolean {
    return (w.namespace === undefined || o.metadata.namespace === w.namespace) && w.matches(o);
  }

  #handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://fake');
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (this.unavailable) return status(res, 503, 'ServiceUnavailable', 'the API server is restarting');
    const discovery = DISCOVERY[url.pathname];
    if (discovery) return json(res, 200, discovery);
    const route = routeOf(url.pathname);
    if (!route)
      return status(
        res,
        404,
        'NotFound',
        `the server could not find the requested resource (${url.pathname})`,
      );
    if (this.forbidden.has(route.kind))
      return status(
        res,
        403,
        'Forbidden',
        `${route.kind} is forbidden: User cannot list resource "${route.kind}"`,
      );
    if (route.name) {
      const found = this.#store[route.kind].get(
        route.namespace ? `${route.namespace}/${route.name}` : route.name,
      );
      return found
        ? json(res, 200, withKind(route.kind, found))
        : status(res, 404, 'NotFound', `${route.kind} "${route.name}" not found`);
    }
    const fields = parseSelector(url.searchParams.get('fieldSelector'));
    const labels = parseSelector(url.searchParams.get('labelSelector'));
    const matches = (o: KubeObject) => fields((k) => fieldOf(o, k)) && labels((k) => o.metadata.labels?.[k]);
    const scope = { kind: route.kind, ...(route.namespace ? { namespace: route.namespace } : {}), matches };
    const watch = url.searchParams.get('watch');
    if (watch === 'true' || watch === '1') return this.#watch(scope, url.searchParams, res);
    const all = [...this.#store[route.kind].values()].filter((o) => this.#visible(scope, o));
    // Paged lists (`limit`, `continue`): the token is the offset of the next page.
    const limit = Number(url.searchParams.get('limit') ?? 0);
    const from = Number(url.searchParams.get('continue') ?? 0);
    const items = limit > 0 ? all.slice(from, from + limit) : all;
    const more = limit > 0 && from + limit < all.length;
    this.pages += limit > 0 ? 1 : 0;
    json(res, 200, {
      kind: `${KINDS[route.kind].kind}List`,
      apiVersion: KINDS[route.kind].apiVersion,
      metadata: { resourceVersion: String(this.#rv), ...(more ? { continue: String(from + limit) } : {}) },
      items,
    });
  }

  #watch(scope: Omit<Watcher, 'res'>, query: URLSearchParams, res: ServerResponse): void {
    const from = query.get('resourceVersion');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    if (from && from !== '0' && Number(from) < this.#compactedBefore) {
      this.expired += 1;
      send(res, 'ERROR', {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${from} (${this.#compactedBefore})`,
        reason: 'Expired',
        code: 410,
      });
      return void res.end();
    }
    // From "0" (or none) a watch starts with the current objects; from a version, with what came after it.
    const replay =
      !from || from === '0'
        ? [...this.#store[scope.kind].values()].map((object) => ({ type: 'ADDED', object }))
        : this.#history.filter((e) => e.kind === scope.kind && e.rv > Number(from));
    for (const e of replay)
      if (this.#visible(scope, e.object)) send(res, e.type, withKind(scope.kind, e.object));
    const watcher: Watcher = { ...scope, res };
    this.#watchers.add(watcher);
    const timers: NodeJS.Timeout[] = [];
    if (query.get('allowWatchBookmarks') === 'true')
      timers.push(
        setInterval(
          () =>
            send(res, 'BOOKMARK', {
              kind: KINDS[scope.kind].kind,
              apiVersion: KINDS[scope.kind].apiVersion,
              metadata: { resourceVersion: String(this.#rv) },
            }),
          this.#bookmarkMs,
        ),
      );
    const seconds = Number(query.get('timeoutSeconds') ?? 0);
    if (seconds > 0) timers.push(setTimeout(() => res.end(), seconds * 1000));
    res.once('close', () => {
      for (const t of timers) clearTimeout(t);
      this.#watchers.delete(watcher);
    });
  }
}

function keyOf(o: KubeObject): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

function withKind(kind: Kind, o: KubeObject): KubeObject {
  return { kind: KINDS[kind].kind, apiVersion: KINDS[kind].apiVersion, ...o };
}

function fieldOf(o: KubeObject, path: string): string | undefined {
  let at: unknown = o;
  for (const part of path.split('.')) at = (at as Record<string, unknown> | undefined)?.[part];
  return at === undefined ? (path === 'spec.nodeName' ? '' : undefined) : String(at);
}

/** The kinds under each group version's path. */
const GROUPS: Record<string, Kind[]> = {
  'api/v1': ['pods', 'namespaces', 'services'],
  'apis/discovery.k8s.io/v1': ['endpointslices'],
  'apis/security.istio.io/v1': ['authorizationpolicies', 'peerauthentications'],
};

function routeOf(path: string): { kind: Kind; namespace?: string; name?: string } | undefined {
  const p = path.split('/').filter(Boolean);
  const prefix = p[0] === 'api' ? 2 : 3;
  const kinds = GROUPS[p.slice(0, prefix).join('/')];
  if (!kinds) return undefined;
  const [a, b, c, d, e] = p.slice(prefix);
  const known = (k: string | undefined): k is Kind => kinds.includes(k as Kind);
  if (known(a) && b === undefined) return { kind: a };
  if (a === 'namespaces' && known(a) && b && c === undefined) return { kind: 'namespaces', name: b };
  if (a === 'namespaces' && b && known(c) && c !== 'namespaces' && e === undefined)
    return { kind: c, namespace: b, ...(d ? { name: d } : {}) };
  return undefined;
}

function send(res: ServerResponse, type: string, object: unknown): void {
  res.write(`${JSON.stringify({ type, object })}\n`);
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  json(res, code, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  });
}

const resource = (name: string, kind: string, namespaced: boolean, shortName?: string) => ({
  name,
  singularName: kind.toLowerCase(),
  namespaced,
  kind,
  verbs: ['get', 'list', 'watch'],
  ...(shortName ? { shortNames: [shortName] } : {}),
});

const DISCOVERY_GROUP = {
  name: 'discovery.k8s.io',
  versions: [{ groupVersion: 'discovery.k8s.io/v1', version: 'v1' }],
  preferredVersion: { groupVersion: 'discovery.k8s.io/v1', version: 'v1' },
};

const SECURITY_GROUP = {
  name: 'security.istio.io',
  versions: [{ groupVersion: 'security.istio.io/v1', version: 'v1' }],
  preferredVersion: { groupVersion: 'security.istio.io/v1', version: 'v1' },
};

/** The discovery documents kubectl asks for before any request. */
const DISCOVERY: Record<string, unknown> = {
  '/api': {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }],
  },
  '/apis': { kind: 'APIGroupList', apiVersion: 'v1', groups: [DISCOVERY_GROUP, SECURITY_GROUP] },
  '/apis/discovery.k8s.io': { kind: 'APIGroup', apiVersion: 'v1', ...DISCOVERY_GROUP },
  '/apis/security.istio.io': { kind: 'APIGroup', apiVersion: 'v1', ...SECURITY_GROUP },
  '/apis/security.istio.io/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'security.istio.io/v1',
    resources: [
      resource('authorizationpolicies', 'AuthorizationPolicy', true, 'ap'),
      resource('peerauthentications', 'PeerAuthentication', true, 'pa'),
    ],
  },
  '/api/v1': {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      resource('pods', 'Pod', true, 'po'),
      resource('namespaces', 'Namespace', false, 'ns'),
      resource('services', 'Service', true, 'svc'),
    ],
  },
  '/apis/discovery.k8s.io/v1': {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'discovery.k8s.io/v1',
    resources: [resource('endpointslices', 'EndpointSlice', true, 'eps')],
  },
  '/version': { major: '1', minor: '29', gitVersion: 'v1.29.0', platform: 'linux/amd64' },
};
