/**
 * Pure edits of a node's CNI configuration: the switchyard-cni entry chained at the end of the
 * primary network's `plugins`, idempotently. Reading and writing files is `install.ts`'s job.
 */

/** The entry's `type`: the plugin binary's name in the CNI bin dir. */
export const SWITCHYARD_CNI_TYPE = 'switchyard-cni';

/** The file extensions container runtimes read from the CNI conf dir (libcni's list). */
export const CNI_CONFIG_EXTENSIONS = ['.conf', '.conflist', '.json'] as const;

/** The CNI versions switchyard-cni speaks; a network of another version cannot chain it. */
export const SUPPORTED_CNI_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] as const;

/** Our chained plugin's entry. */
export interface ChainEntry {
  type: typeof SWITCHYARD_CNI_TYPE;
  agentSocket: string;
  excludeNamespaces: string[];
  agentTimeoutSeconds?: number;
}

/** A network configuration list, as far as we read it. */
export interface Conflist {
  cniVersion?: string;
  name?: string;
  plugins: Record<string, unknown>[];
  [key: string]: unknown;
}

/** Whether a conf dir file name is one runtimes read. */
export function isCniConfigFile(name: string): boolean {
  return CNI_CONFIG_EXTENSIONS.some((ext) => name.endsWith(ext));
}

/** The file the runtime uses: the lexically first configuration file (as libcni sorts them). */
export function primaryConfigFile(names: readonly string[]): string | undefined {
  return names.filter(isCniConfigFile).sort()[0];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The document as a list: a conflist as it is; a single-plugin configuration (a `.conf`) wrapped
 * into one, its `cniVersion` and `name` lifted to the list. Undefined when it is neither.
 */
export function asConflist(doc: unknown): Conflist | undefined {
  if (!isObject(doc)) return undefined;
  if (Array.isArray(doc.plugins)) return doc.plugins.every(isObject) ? (doc as Conflist) : undefined;
  if (typeof doc.type !== 'string') return undefined;
  const { cniVersion, name, ...plugin } = doc;
  return { cniVersion: cniVersion as string, name: name as string, plugins: [plugin] };
}

function sameEntry(a: Record<string, unknown>, b: ChainEntry): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The list with `entry` as its last plugin and no other switchyard-cni entry; `changed` when it differs. */
export function withChainEntry(list: Conflist, entry: ChainEntry): { list: Conflist; changed: boolean } {
  const last = list.plugins.at(-1);
  const ours = list.plugins.filter((p) => p.type === SWITCHYARD_CNI_TYPE);
  if (last && ours.length === 1 && sameEntry(last, entry)) return { list, changed: false };
  const plugins = list.plugins.filter((p) => p.type !== SWITCHYARD_CNI_TYPE);
  return { list: { ...list, plugins: [...plugins, { ...entry }] }, changed: true };
}

/** The list without switchyard-cni entries; `changed` when there was one. */
export function withoutChainEntry(list: Conflist): { list: Conflist; changed: boolean } {
  const plugins = list.plugins.filter((p) => p.type !== SWITCHYARD_CNI_TYPE);
  return { list: { ...list, plugins }, changed: plugins.length !== list.plugins.length };
}
