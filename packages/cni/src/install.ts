import { chmod, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import {
  asConflist,
  type ChainEntry,
  type Conflist,
  isCniConfigFile,
  primaryConfigFile,
  SUPPORTED_CNI_VERSIONS,
  SWITCHYARD_CNI_TYPE,
  withChainEntry,
  withoutChainEntry,
} from './conflist.js';
import { DEFAULT_AGENT_SOCKET } from './protocol.js';

/** Where the installer works unless told otherwise (the paths kubelet and containerd use). */
export const CNI_INSTALL_DEFAULTS = Object.freeze({
  binDir: '/opt/cni/bin',
  confDir: '/etc/cni/net.d',
  /** Pods here never wait for the agent (the cluster's own, and the agent's namespace). */
  excludeNamespaces: Object.freeze(['kube-system', 'switchyard-system']),
});

/** What {@link installCni} installs, and where. */
export interface CniInstallOptions {
  /** The built `switchyard-cni` binary to copy onto the host. */
  binary: string;
  /** The host's CNI bin dir. Default `/opt/cni/bin`. */
  binDir?: string;
  /** The host's CNI conf dir. Default `/etc/cni/net.d`. */
  confDir?: string;
  /** The agent's socket, as the host sees it. Default {@link DEFAULT_AGENT_SOCKET}. */
  agentSocket?: string;
  /** Namespaces whose pods pass through. Default `kube-system`, `switchyard-system`. */
  excludeNamespaces?: readonly string[];
  /** How long ADD waits for the agent. Default: the plugin's own (20 s). */
  agentTimeoutSeconds?: number;
}

/** What {@link installCni} did. */
export interface CniInstallResult {
  /** The configuration file that holds the entry now. */
  conflist: string;
  /** Whether the configuration file was written (false: the entry was already in place). */
  configChanged: boolean;
  /** Whether the binary was copied (false: the same bytes were in place). */
  binaryChanged: boolean;
}

async function inputError(message: string, cause?: unknown): Promise<Error> {
  const { InputInvalidError } = await import('@switchyard/core');
  return new InputInvalidError(message, { cause });
}

/** Writes `data` beside `target` under a name runtimes ignore, then renames it over `target`. */
async function writeAtomic(target: string, data: string | Buffer, mode: number): Promise<void> {
  const temp = join(target, '..', `.${basename(target)}.switchyard-${process.pid}-${Date.now()}.tmp`);
  try {
    await writeFile(temp, data, { mode, flush: true });
    await chmod(temp, mode); // writeFile's mode is filtered by the umask
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

function entryOf(options: CniInstallOptions): ChainEntry {
  const entry: ChainEntry = {
    type: SWITCHYARD_CNI_TYPE,
    agentSocket: options.agentSocket ?? DEFAULT_AGENT_SOCKET,
    excludeNamespaces: [...(options.excludeNamespaces ?? CNI_INSTALL_DEFAULTS.excludeNamespaces)],
  };
  if (options.agentTimeoutSeconds !== undefined) entry.agentTimeoutSeconds = options.agentTimeoutSeconds;
  return entry;
}

/** Copies the plugin into the bin dir (0755, atomically) unless the same bytes are there. */
async function installBinary(options: CniInstallOptions): Promise<boolean> {
  const target = join(options.binDir ?? CNI_INSTALL_DEFAULTS.binDir, SWITCHYARD_CNI_TYPE);
  const wanted = await readFile(options.binary).catch(async (error) => {
    throw await inputError(
      `Cannot read the plugin binary ${options.binary}: ${(error as Error).message}.`,
      error,
    );
  });
  const present = await readFile(target).catch(() => undefined);
  if (present?.equals(wanted) && ((await stat(target)).mode & 0o777) === 0o755) return false;
  await writeAtomic(target, wanted, 0o755);
  return true;
}

/** A configuration file read and parsed, with what is needed to notice a concurrent rewrite. */
interface ReadConfig {
  path: string;
  list: Conflist;
  mode: number;
  mtimeMs: number;
}

async function readConfig(path: string): Promise<ReadConfig> {
  const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw await inputError(`${path} is not JSON (${(error as Error).message}); fix or remove it.`, error);
  }
  const list = asConflist(doc);
  if (!list) throw await inputError(`${path} is neither a CNI network configuration nor a list of them.`);
  return { path, list, mode: info.mode & 0o777, mtimeMs: info.mtimeMs };
}

/** Writes a changed configuration, unless someone rewrote the file since it was read. */
async function writeConfig(read: ReadConfig, list: Conflist, target = read.path): Promise<void> {
  const now = await stat(read.path);
  if (now.mtimeMs !== read.mtimeMs)
    throw await inputError(`${read.path} changed while it was being edited; run again.`);
  await writeAtomic(target, `${JSON.stringify(list, null, 2)}\n`, read.mode);
}

/** The conf dir's primary configuration file, or undefined when there is none yet. */
export async function primaryCniConfig(
  confDir: string = CNI_INSTALL_DEFAULTS.confDir,
): Promise<string | undefined> {
  const names = await readdir(confDir).catch(async (error) => {
    throw await inputError(`Cannot read the CNI conf dir ${confDir}: ${(error as Error).message}.`, error);
  });
  const name = primaryConfigFile(names);
  return name === undefined ? undefined : join(confDir, name);
}

/**
 * Copies the plugin into the CNI bin dir and chains its entry at the end of `plugins` of the
 * node's primary network (the lexically first configuration file, the one runtimes use). A
 * single-plugin `.conf` becomes a `.conflist` of the same name. Idempotent; every write atomic.
 * Throws `InputInvalidError` when there is no configuration yet or it cannot be read or chained.
 *
 * @example
 * ```ts
 * await installCni({ binary: '/opt/switchyard/bin/switchyard-cni', excludeNamespaces: ['kube-system'] });
 * ```
 */
export async function installCni(options: CniInstallOptions): Promise<CniInstallResult> {
  const confDir = options.confDir ?? CNI_INSTALL_DEFAULTS.confDir;
  const primary = await primaryCniConfig(confDir);
  if (!primary)
    throw await inputError(
      `${confDir} holds no CNI configuration yet; install the cluster's network plugin first.`,
    );
  const read = await readConfig(primary);
  const version = read.list.cniVersion ?? '';
  if (!(SUPPORTED_CNI_VERSIONS as readonly string[]).includes(version))
    throw await inputError(
      `${primary} has cniVersion "${version}"; switchyard-cni chains into networks of cniVersion ${SUPPORTED_CNI_VERSIONS.join(', ')}.`,
    );
  const binaryChanged = await installBinary(options);
  const { list, changed } = withChainEntry(read.list, entryOf(options));
  const isList = extname(primary) === '.conflist';
  const target = isList ? primary : `${primary.slice(0, -extname(primary).length)}.conflist`;
  if (changed || !isList) await writeConfig(read, list, target);
  if (!isList) await rm(primary, { force: true }); // the list replaces it (it sorts after the .conf)
  return { conflist: target, configChanged: changed || !isList, binaryChanged };
}

/** Removes the switchyard-cni entry from every configuration file in the conf dir, and the binary. */
export async function uninstallCni(options: Omit<CniInstallOptions, 'binary'>): Promise<string[]> {
  const confDir = options.confDir ?? CNI_INSTALL_DEFAULTS.confDir;
  const cleaned: string[] = [];
  for (const name of (await readdir(confDir).catch(() => [])).filter(isCniConfigFile).sort()) {
    const path = join(confDir, name);
    const read = await readConfig(path).catch(() => undefined); // not ours to judge: leave it
    if (!read) continue;
    const { list, changed } = withoutChainEntry(read.list);
    if (!changed) continue;
    await writeConfig(read, list);
    cleaned.push(path);
  }
  await rm(join(options.binDir ?? CNI_INSTALL_DEFAULTS.binDir, SWITCHYARD_CNI_TYPE), { force: true });
  return cleaned;
}
