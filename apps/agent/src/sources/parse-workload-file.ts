import { isAbsolute, resolve } from 'node:path';
import { carrierNames } from '../carriers/carriers.js';
import { Issues } from '../config/issues.js';
import { type FilePolicy, parseFilePolicies } from './file-policies.js';
import type { Workload, WorkloadNetwork } from './workload.js';

const FIELDS = [
  'name',
  'namespace',
  'serviceAccount',
  'labels',
  'network',
  'ips',
  'probePorts',
  'carrier',
  'certDir',
];
const NETWORKS = ['netns', 'netnsPath', 'pid', 'containerId', 'hnsEndpoint'] as const;
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a workload file holds: its workloads, and its policies (`policies`, absent when the key is). */
export interface WorkloadFile {
  workloads: Workload[];
  policies?: FilePolicy[];
}

/**
 * Checks a workload file (`workloads: [{name, namespace, serviceAccount, network, …}]`, and
 * `policies: [AuthorizationPolicy or PeerAuthentication objects]`) and returns its workloads.
 * Relative `certDir`s resolve against `baseDir`.
 *
 * @throws InputInvalidError naming every bad field by its path.
 */
export function parseWorkloadFile(document: unknown, baseDir: string, shown: string): Workload[] {
  return readWorkloadFile(document, baseDir, shown).workloads;
}

/** {@link parseWorkloadFile} with the file's policies. */
export function readWorkloadFile(document: unknown, baseDir: string, shown: string): WorkloadFile {
  const is = new Issues();
  const doc = is.object('(file)', document ?? {}, false);
  is.unknown('', doc, ['workloads', 'policies']);
  const policies = parseFilePolicies(is, doc.policies);
  const seen = new Set<string>();
  const workloads = is.array('workloads', doc.workloads).flatMap((item, i) => {
    const w = parseWorkload(is, `workloads[${i}]`, item, baseDir);
    if (!w) return [];
    if (seen.has(w.id)) is.add(`workloads[${i}]`, `${w.id} is listed twice; names are unique per namespace`);
    seen.add(w.id);
    return [w];
  });
  is.throwIfAny(shown);
  return { workloads, ...(doc.policies !== undefined ? { policies } : {}) };
}

function parseWorkload(is: Issues, path: string, item: unknown, baseDir: string): Workload | undefined {
  const before = is.list.length;
  const w = is.object(path, item, false);
  is.unknown(path, w, FIELDS);
  const name = dnsName(is, `${path}.name`, w.name);
  const namespace = dnsName(is, `${path}.namespace`, w.namespace ?? 'default');
  const serviceAccount = dnsName(is, `${path}.serviceAccount`, w.serviceAccount ?? 'default');
  const network = parseNetwork(is, `${path}.network`, w.network);
  const carrier =
    w.carrier === undefined ? undefined : is.oneOf(`${path}.carrier`, w.carrier, carrierNames(), 'hbone');
  const certDir = is.string(`${path}.certDir`, w.certDir);
  const ips = is.array(`${path}.ips`, w.ips).flatMap((ip, j) => {
    if (typeof ip === 'string' && /^[0-9a-f.:]+$/i.test(ip) && ip.length > 1) return [ip];
    is.add(`${path}.ips[${j}]`, `${JSON.stringify(ip)} is not an IP address`);
    return [];
  });
  const probePorts = is.ports(`${path}.probePorts`, w.probePorts);
  const labels = is.object(`${path}.labels`, w.labels);
  for (const [k, v] of Object.entries(labels))
    if (typeof v !== 'string') is.add(`${path}.labels.${k}`, `${JSON.stringify(v)} is not a string`);
  if (is.list.length > before || !name || !network) return undefined;
  return {
    id: `${namespace}/${name}`,
    name,
    namespace: namespace ?? 'default',
    serviceAccount: serviceAccount ?? 'default',
    network,
    ips,
    probePorts,
    ...(Object.keys(labels).length > 0 ? { labels: labels as Record<string, string> } : {}),
    ...(carrier ? { carrier } : {}),
    ...(certDir ? { certDir: isAbsolute(certDir) ? certDir : resolve(baseDir, certDir) } : {}),
  };
}

function dnsName(is: Issues, path: string, value: unknown): string | undefined {
  if (typeof value === 'string' && NAME.test(value)) return value;
  is.add(
    path,
    `${JSON.stringify(value)} is not a name; use lower-case letters, digits, "-" and "." (as Kubernetes names)`,
  );
  return undefined;
}

function parseNetwork(is: Issues, path: string, value: unknown): WorkloadNetwork | undefined {
  const n = is.object(path, value, false);
  const given = NETWORKS.filter((k) => n[k] !== undefined);
  is.unknown(path, n, NETWORKS);
  if (given.length !== 1) {
    is.add(path, `give exactly one of ${NETWORKS.join(', ')} (where the workload's network lives)`);
    return undefined;
  }
  const key = given[0] as (typeof NETWORKS)[number];
  const v = n[key];
  const bad = (hint: string) => {
    is.add(`${path}.${key}`, `${JSON.stringify(v)} ${hint}`);
    return undefined;
  };
  switch (key) {
    case 'netns':
      return typeof v === 'string' && /^[A-Za-z0-9_.-]{1,255}$/.test(v)
        ? { netns: v }
        : bad('is not a network namespace name (as "ip netns list" shows)');
    case 'netnsPath':
      return typeof v === 'string' && v.startsWith('/')
        ? { netnsPath: v }
        : bad('is not an absolute path to a network namespace file');
    case 'pid':
      return Number.isInteger(v) && (v as number) > 0 ? { pid: v as number } : bad('is not a process id');
    case 'containerId':
      return typeof v === 'string' && /^[0-9a-f]{4,64}$/.test(v)
        ? { containerId: v }
        : bad('is not a container id (hex, as "crictl ps" shows)');
    case 'hnsEndpoint':
      return typeof v === 'string' && GUID.test(v)
        ? { hnsEndpoint: v.toLowerCase() }
        : bad('is not an HNS endpoint GUID');
  }
}
