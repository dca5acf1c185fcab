import type { CniCommand, CniError, CniRequest } from '@switchyard/cni';

/** A CNI request, checked: what the agent acts on. */
export interface CheckedCniRequest {
  command: CniCommand;
  sandbox: string;
  /** The pod's network as CNI names it: a namespace path (Linux), an HNS namespace (Windows). */
  network: { netnsPath: string } | { hnsNamespace: string };
  cniVersion: string;
  /** The pod, from `CNI_ARGS`; absent for a sandbox that is not a Kubernetes pod's. */
  pod?: { namespace: string; name: string; uid?: string };
  prevResult?: Record<string, unknown>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** CNI's error codes the agent answers with. */
export const CNI_CODES = Object.freeze({ invalidEnvironment: 4, invalidConfig: 7, tryAgainLater: 11 });

/** A CNI error body for the plugin to print. */
export function cniError(cniVersion: string, code: number, msg: string, details?: string): string {
  const e: CniError = { cniVersion, code, msg, ...(details ? { details } : {}) };
  return JSON.stringify(e);
}

/**
 * Pure: checks a request the plugin forwarded. Throws a CNI error body (a string) when the
 * request cannot be acted on.
 */
export function checkCniRequest(body: unknown): CheckedCniRequest {
  const b = (body ?? {}) as Partial<CniRequest>;
  const config = (b.config ?? {}) as Partial<CniRequest['config']>;
  const version = typeof config.cniVersion === 'string' ? config.cniVersion : '1.0.0';
  const bad = (code: number, msg: string) => {
    throw cniError(version, code, msg);
  };
  if (b.command !== 'ADD' && b.command !== 'DEL' && b.command !== 'CHECK')
    bad(CNI_CODES.invalidEnvironment, `CNI_COMMAND must be ADD, DEL or CHECK, not ${String(b.command)}`);
  if (typeof b.containerId !== 'string' || b.containerId === '')
    bad(CNI_CODES.invalidEnvironment, 'CNI_CONTAINERID is missing');
  const netns = typeof b.netns === 'string' ? b.netns : '';
  if (b.command !== 'DEL' && !netns.startsWith('/') && !GUID.test(netns))
    bad(
      CNI_CODES.invalidEnvironment,
      `CNI_NETNS must be an absolute path (Linux) or an HNS namespace GUID (Windows), not "${netns}"`,
    );
  if (typeof config.cniVersion !== 'string')
    bad(CNI_CODES.invalidConfig, 'the configuration has no cniVersion');
  const args = parseCniArgs(typeof b.args === 'string' ? b.args : '');
  const namespace = args.get('K8S_POD_NAMESPACE');
  const name = args.get('K8S_POD_NAME');
  const uid = args.get('K8S_POD_UID');
  const prev = config.prevResult;
  return {
    command: b.command as CniCommand,
    sandbox: b.containerId as string,
    network: GUID.test(netns) ? { hnsNamespace: netns.toLowerCase() } : { netnsPath: netns },
    cniVersion: version,
    ...(namespace && name ? { pod: { namespace, name, ...(uid ? { uid } : {}) } } : {}),
    ...(prev && typeof prev === 'object' && !Array.isArray(prev) ? { prevResult: prev } : {}),
  };
}

/** `CNI_ARGS` (`K=V;K=V`) as a map; malformed pairs are skipped. */
export function parseCniArgs(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of text.split(';')) {
    const at = pair.indexOf('=');
    if (at > 0) out.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return out;
}

/** The addresses of a CNI result (`ips[].address`, CIDR notation), without their prefix lengths. */
export function resultAddresses(result: Record<string, unknown> | undefined): string[] {
  const ips = Array.isArray(result?.ips) ? (result.ips as { address?: unknown }[]) : [];
  return ips
    .map((ip) => (typeof ip.address === 'string' ? (ip.address.split('/')[0] ?? '') : ''))
    .filter((a) => a !== '');
}

/** A chained plugin's ADD result: the previous plugins' result, unchanged. */
export function passThrough(r: CheckedCniRequest): string {
  return JSON.stringify(r.prevResult ?? { cniVersion: r.cniVersion });
}
