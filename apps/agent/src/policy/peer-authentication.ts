import { ObjectReader } from './object-reader.js';
import { emptyMatch, type L4Policy, policyKey } from './policy-model.js';
import { stringMatch } from './string-match.js';

/** An mTLS mode; UNSET inherits from the level above. */
export type MtlsMode = 'UNSET' | 'STRICT' | 'PERMISSIVE' | 'DISABLE';
const MODES: readonly MtlsMode[] = ['UNSET', 'STRICT', 'PERMISSIVE', 'DISABLE'];

/** A PeerAuthentication (`security.istio.io/v1`) as kept. */
export interface PeerAuthentication {
  namespace: string;
  name: string;
  /** Older wins where two apply at the same level (as istiod picks). */
  created: string;
  /** Present with at least one label: a workload policy. */
  selector?: Readonly<Record<string, string>>;
  mode: MtlsMode;
  /** Port-level modes (workload policies only). */
  ports: ReadonlyMap<number, MtlsMode>;
}

/** Reads a PeerAuthentication, or every problem with its field path. */
export function readPeerAuthentication(object: unknown): { pa: PeerAuthentication } | { problems: string[] } {
  const r = new ObjectReader();
  const o = r.object(object, 'PeerAuthentication') ?? {};
  const meta = r.object(o.metadata, 'metadata') ?? {};
  const name = r.string(meta.name, 'metadata.name');
  if (!name) r.problems.push('metadata.name: required');
  const spec = r.object(o.spec, 'spec') ?? {};
  r.known(spec, 'spec', ['selector', 'mtls', 'portLevelMtls']);
  const mode = (m: unknown, path: string): MtlsMode => {
    const o2 = r.object(m, path);
    if (o2) r.known(o2, path, ['mode']);
    const value = r.string(o2?.mode, `${path}.mode`) ?? 'UNSET';
    if (MODES.includes(value as MtlsMode)) return value as MtlsMode;
    r.problems.push(`${path}.mode: "${value}" is not ${MODES.join(', ')}`);
    return 'UNSET';
  };
  const selector = r.object(spec.selector, 'spec.selector');
  const labels = selector ? r.labels(selector.matchLabels, 'spec.selector.matchLabels') : undefined;
  const ports = new Map<number, MtlsMode>();
  for (const [port, m] of Object.entries(r.object(spec.portLevelMtls, 'spec.portLevelMtls') ?? {})) {
    if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535)
      r.problems.push(`spec.portLevelMtls.${port}: not a port number`);
    else ports.set(Number(port), mode(m, `spec.portLevelMtls.${port}`));
  }
  const pa: PeerAuthentication = {
    namespace: r.string(meta.namespace, 'metadata.namespace') ?? 'default',
    name: name as string,
    created: r.string(meta.creationTimestamp, 'metadata.creationTimestamp') ?? '',
    ...(labels && Object.keys(labels).length > 0 ? { selector: labels } : {}),
    mode: mode(spec.mtls, 'spec.mtls'),
    ports,
  };
  return r.problems.length > 0 ? { problems: r.problems } : { pa };
}

/** A workload as PeerAuthentication selects it. */
export interface PolicyWorkload {
  namespace: string;
  labels: Readonly<Record<string, string>>;
}

/** Whether every label of `selector` is on the workload. */
export function selects(
  selector: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

const oldest = (all: PeerAuthentication[]) =>
  all.reduce<PeerAuthentication | undefined>((a, b) => (!a || b.created < a.created ? b : a), undefined);

/**
 * The PeerAuthentication in force for one workload, as the DENY policy ztunnel would enforce: a
 * plain-TCP connection (no peer identity) is refused where the effective mode is STRICT. Levels
 * as istiod resolves them: the mesh (root namespace, no selector), the namespace, then the oldest
 * workload policy selecting it, UNSET inheriting; DISABLE counts as PERMISSIVE (mTLS cannot be
 * turned off in the mesh). Port-level modes override per port, except that a DISABLE port under
 * an inherited STRICT stays STRICT (istiod only exempts PERMISSIVE there). `fallback` is the mode
 * when nothing sets one. Undefined: nothing to refuse.
 */
export function peerAuthenticationPolicy(
  all: readonly PeerAuthentication[],
  w: PolicyWorkload,
  rootNamespace: string,
  fallback: 'STRICT' | 'PERMISSIVE',
): L4Policy | undefined {
  const mesh = oldest(all.filter((p) => p.namespace === rootNamespace && !p.selector));
  const ns = oldest(
    all.filter((p) => p.namespace === w.namespace && w.namespace !== rootNamespace && !p.selector),
  );
  const wl = oldest(
    all.filter(
      (p) =>
        p.namespace === w.namespace &&
        w.namespace !== rootNamespace &&
        p.selector &&
        selects(p.selector, w.labels),
    ),
  );
  let strict = fallback === 'STRICT';
  let decidedBy: PeerAuthentication | undefined;
  for (const level of [mesh, ns]) {
    if (level && level.mode !== 'UNSET') {
      strict = level.mode === 'STRICT';
      decidedBy = level;
    }
  }
  const exceptions: number[] = [];
  if (wl) {
    if (wl.mode !== 'UNSET') {
      strict = wl.mode === 'STRICT';
      decidedBy = wl;
    }
    for (const [port, mode] of wl.ports) {
      const portStrict = mode === 'STRICT';
      const relaxes =
        wl.mode === 'UNSET' ? mode === 'PERMISSIVE' : mode === 'PERMISSIVE' || mode === 'DISABLE';
      if (strict && relaxes) exceptions.push(port);
      if (!strict && portStrict) exceptions.push(port);
    }
    if (exceptions.length > 0) decidedBy = wl;
  }
  if (!strict && exceptions.length === 0) return undefined;
  const noIdentity = { ...emptyMatch(), notPrincipals: [stringMatch('*')] };
  const ports = strict
    ? { ...emptyMatch(), notDestinationPorts: exceptions }
    : { ...emptyMatch(), destinationPorts: exceptions };
  return {
    kind: 'PeerAuthentication',
    namespace: decidedBy?.namespace ?? rootNamespace,
    name: decidedBy?.name ?? '(default STRICT)',
    scope: 'workload',
    action: 'DENY',
    rules: [exceptions.length > 0 ? [[noIdentity], [ports]] : [[noIdentity]]],
    dryRun: false,
    warnings: [],
  };
}

/** The key of a PeerAuthentication. */
export const peerAuthenticationKey = (p: PeerAuthentication) => policyKey(p);
