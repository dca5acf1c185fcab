import { CNI_INSTALL_DEFAULTS, type CniInstallOptions } from './install.js';
import type { CniWatchEvent } from './install-watch.js';
import { DEFAULT_AGENT_SOCKET, DEFAULT_AGENT_TIMEOUT_SECONDS } from './protocol.js';

/**
 * The flags of `switchyard-agent install-cni`, as a CLI parser hands them over (camelCase keys,
 * string values): the agent's CLI declares {@link INSTALL_CNI_FLAGS} and passes what it parsed.
 */
export interface InstallCniFlags {
  watch?: boolean;
  uninstall?: boolean;
  keepOnStop?: boolean;
  binary?: string;
  cniBinDir?: string;
  cniConfDir?: string;
  agentSocket?: string;
  excludeNamespaces?: string;
  agentTimeoutSeconds?: string;
}

/** The flags' spellings (commander syntax) and help, in the order the CLI lists them. */
export const INSTALL_CNI_FLAGS = Object.freeze([
  { flag: '--watch', description: 'keep the plugin installed until SIGTERM, then remove it' },
  { flag: '--uninstall', description: 'remove the plugin and its entry, then exit' },
  { flag: '--keep-on-stop', description: 'with --watch: leave the plugin installed when stopped' },
  { flag: '--binary <path>', description: 'the built switchyard-cni to copy onto the host' },
  {
    flag: '--cni-bin-dir <dir>',
    description: `the host's CNI bin dir (default ${CNI_INSTALL_DEFAULTS.binDir})`,
  },
  {
    flag: '--cni-conf-dir <dir>',
    description: `the host's CNI conf dir (default ${CNI_INSTALL_DEFAULTS.confDir})`,
  },
  {
    flag: '--agent-socket <path>',
    description: `the agent's socket on the host (default ${DEFAULT_AGENT_SOCKET})`,
  },
  {
    flag: '--exclude-namespaces <list>',
    description: `comma-separated namespaces whose pods never wait (default ${CNI_INSTALL_DEFAULTS.excludeNamespaces.join(',')})`,
  },
  {
    flag: '--agent-timeout-seconds <n>',
    description: `how long ADD waits for the agent (default ${DEFAULT_AGENT_TIMEOUT_SECONDS})`,
  },
]);

/** What `install-cni` does, checked. */
export interface InstallCniCommand {
  mode: 'install' | 'watch' | 'uninstall';
  /** Whether watch mode removes the plugin when stopped. */
  uninstallOnStop: boolean;
  options: CniInstallOptions;
}

async function usage(message: string): Promise<Error> {
  const { InputInvalidError } = await import('@switchyard/core');
  return new InputInvalidError(`install-cni: ${message}`);
}

/** Checks the flags; `InputInvalidError` saying which one is wrong and how. */
export async function installCniCommand(flags: InstallCniFlags): Promise<InstallCniCommand> {
  if (flags.watch && flags.uninstall)
    throw await usage('--watch and --uninstall exclude each other; pick one.');
  if (flags.keepOnStop && !flags.watch) throw await usage('--keep-on-stop goes with --watch.');
  const mode = flags.uninstall ? 'uninstall' : flags.watch ? 'watch' : 'install';
  if (mode !== 'uninstall' && !flags.binary)
    throw await usage('--binary <path> is needed: the switchyard-cni to copy.');
  for (const [flag, value] of [
    ['--cni-bin-dir', flags.cniBinDir],
    ['--cni-conf-dir', flags.cniConfDir],
    ['--agent-socket', flags.agentSocket],
  ] as const)
    if (value !== undefined && !value.startsWith('/'))
      throw await usage(`${flag} must be an absolute path, not "${value.slice(0, 80)}".`);
  const options: CniInstallOptions = { binary: flags.binary ?? '' };
  if (flags.cniBinDir) options.binDir = flags.cniBinDir;
  if (flags.cniConfDir) options.confDir = flags.cniConfDir;
  if (flags.agentSocket) options.agentSocket = flags.agentSocket;
  if (flags.excludeNamespaces !== undefined)
    options.excludeNamespaces = flags.excludeNamespaces
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
  if (flags.agentTimeoutSeconds !== undefined) {
    const seconds = Number(flags.agentTimeoutSeconds);
    if (!(seconds > 0 && seconds <= 3600))
      throw await usage(
        `--agent-timeout-seconds must be a number of seconds, more than 0 and at most 3600, not "${flags.agentTimeoutSeconds.slice(0, 80)}".`,
      );
    options.agentTimeoutSeconds = seconds;
  }
  return { mode, uninstallOnStop: !flags.keepOnStop, options };
}

/** One line for each thing the installer did or will retry. */
export function describeInstallEvent(event: CniWatchEvent): string {
  switch (event.kind) {
    case 'installed': {
      const { conflist, binaryChanged, configChanged } = event.result;
      const what = [configChanged && `chained into ${conflist}`, binaryChanged && 'binary copied'].filter(
        Boolean,
      );
      return `switchyard-cni: ${what.join(', ') || `in place in ${conflist}`}`;
    }
    case 'retry':
      return `switchyard-cni: not installed yet, retrying: ${event.error.message}`;
    case 'uninstalled':
      return `switchyard-cni: removed${event.files.length ? ` from ${event.files.join(', ')}` : ''}`;
  }
}

/**
 * Runs `install-cni`: install once, uninstall, or watch until `signal` aborts (the CLI aborts it
 * on SIGTERM and SIGINT). Every step is reported through `log`, one line each.
 *
 * @example
 * ```ts
 * const stop = new AbortController();
 * process.once('SIGTERM', () => stop.abort());
 * await runInstallCni({ watch: true, binary: '/opt/switchyard-agent/bin/switchyard-cni' }, {
 *   signal: stop.signal,
 *   log: (line) => process.stderr.write(`${line}\n`),
 * });
 * ```
 */
export async function runInstallCni(
  flags: InstallCniFlags,
  io: { signal: AbortSignal; log: (line: string) => void },
): Promise<void> {
  const command = await installCniCommand(flags);
  if (command.mode === 'uninstall') {
    const { uninstallCni } = await import('./install.js');
    io.log(describeInstallEvent({ kind: 'uninstalled', files: await uninstallCni(command.options) }));
  } else if (command.mode === 'install') {
    const { installCni } = await import('./install.js');
    io.log(describeInstallEvent({ kind: 'installed', result: await installCni(command.options) }));
  } else {
    const { watchCniInstall } = await import('./install-watch.js');
    await watchCniInstall({
      ...command.options,
      signal: io.signal,
      uninstallOnStop: command.uninstallOnStop,
      onEvent: (event) => io.log(describeInstallEvent(event)),
    });
  }
}
