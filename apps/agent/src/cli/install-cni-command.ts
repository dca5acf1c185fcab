import {
  CNI_INSTALL_DEFAULTS,
  type CniInstallOptions,
  installCni,
  uninstallCni,
  watchCniInstall,
} from '@switchyard/cni';
import type { AgentIo } from './agent-io.js';
import { EXIT } from './exit-codes.js';

/** `switchyard-agent install-cni`'s flags. */
export interface InstallCniFlags {
  binary?: string;
  cniBinDir?: string;
  cniConfDir?: string;
  agentSocket?: string;
  excludeNamespaces?: string;
  agentTimeoutSeconds?: string;
  watch?: boolean;
  keepOnStop?: boolean;
  uninstall?: boolean;
}

/**
 * Puts `switchyard-cni` on the node (the binary into the CNI bin dir, its entry chained at the
 * end of the primary conflist); `--watch` keeps it there until SIGTERM, then takes it off unless
 * `--keep-on-stop`; `--uninstall` takes it off now. What the DaemonSet's install-cni container runs.
 */
export async function installCniCommand(flags: InstallCniFlags, io: AgentIo): Promise<number> {
  const options: {
    -readonly [K in keyof Omit<CniInstallOptions, 'binary'>]: Omit<CniInstallOptions, 'binary'>[K];
  } = {
    ...(flags.cniBinDir ? { binDir: flags.cniBinDir } : {}),
    ...(flags.cniConfDir ? { confDir: flags.cniConfDir } : {}),
    ...(flags.agentSocket ? { agentSocket: flags.agentSocket } : {}),
    ...(flags.excludeNamespaces !== undefined
      ? { excludeNamespaces: flags.excludeNamespaces.split(',').filter(Boolean) }
      : {}),
  };
  if (flags.agentTimeoutSeconds !== undefined) {
    const seconds = Number(flags.agentTimeoutSeconds);
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 300) {
      io.stderr(
        `switchyard-agent: --agent-timeout-seconds must be a whole number from 1 to 300, not ${flags.agentTimeoutSeconds}\n`,
      );
      return EXIT.input;
    }
    options.agentTimeoutSeconds = seconds;
  }
  if (flags.uninstall) {
    const removed = await uninstallCni(options);
    io.stdout(removed.length ? `Removed ${removed.join(', ')}.\n` : 'switchyard-cni was not installed.\n');
    return EXIT.ok;
  }
  if (!flags.binary) {
    io.stderr('switchyard-agent: install-cni needs --binary=PATH (the built switchyard-cni)\n');
    return EXIT.input;
  }
  const binary = flags.binary;
  if (!flags.watch) {
    const result = await installCni({ ...options, binary });
    io.stdout(
      `switchyard-cni is chained in ${result.conflist}${result.configChanged ? '' : ' (already was)'}.\n`,
    );
    return EXIT.ok;
  }
  const stop = new AbortController();
  for (const s of ['SIGTERM', 'SIGINT'] as const) process.once(s, () => stop.abort());
  const log = (msg: string, fields: Record<string, unknown>) =>
    io.stderr(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', msg, ...fields })}\n`);
  await watchCniInstall({
    ...options,
    binary,
    signal: stop.signal,
    // Kept across the agent's upgrades: new pods then wait for the next agent instead of starting uncaptured.
    uninstallOnStop: flags.keepOnStop !== true,
    onEvent: (e) => {
      if (e.kind === 'installed' && (e.result.configChanged || e.result.binaryChanged))
        log('switchyard-cni installed', { conflist: e.result.conflist });
      else if (e.kind === 'retry')
        log('switchyard-cni not installed yet; retrying', { reason: e.error.message });
      else if (e.kind === 'uninstalled') log('switchyard-cni removed', { files: e.files });
    },
  });
  return EXIT.ok;
}

/** The defaults, for `--help`. */
export const INSTALL_CNI_HELP = `defaults: --cni-bin-dir=${CNI_INSTALL_DEFAULTS.binDir} --cni-conf-dir=${CNI_INSTALL_DEFAULTS.confDir} --exclude-namespaces=${CNI_INSTALL_DEFAULTS.excludeNamespaces.join(',')}`;
