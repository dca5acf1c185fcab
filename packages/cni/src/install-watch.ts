import { type FSWatcher, watch } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import {
  CNI_INSTALL_DEFAULTS,
  type CniInstallOptions,
  type CniInstallResult,
  installCni,
  uninstallCni,
} from './install.js';

/** How often the watcher checks even without a file event (events can be missed). */
export const CNI_WATCH_INTERVAL_MS = 5_000;
/** How long after a file event the watcher waits for the writer to finish. */
const SETTLE_MS = 100;

/** What the watcher reports; the caller logs it. */
export type CniWatchEvent =
  | { kind: 'installed'; result: CniInstallResult }
  | { kind: 'retry'; error: Error }
  | { kind: 'uninstalled'; files: string[] };

/** {@link watchCniInstall}'s options. */
export interface CniWatchOptions extends CniInstallOptions {
  /** Stops the watcher. */
  signal: AbortSignal;
  /** Remove the entry and the binary when stopped. Default true. */
  uninstallOnStop?: boolean;
  /** Default {@link CNI_WATCH_INTERVAL_MS}. */
  intervalMs?: number;
  /** Called on every change and every failed attempt (which is retried). */
  onEvent?: (event: CniWatchEvent) => void;
}

/**
 * Installs the plugin and keeps it installed: when the cluster's network plugin rewrites its
 * configuration (dropping our entry) or the binary goes, they are put back, on a file event or at
 * the latest after `intervalMs`. Failures (no configuration yet, a file half written) are
 * reported and retried. Resolves once `signal` aborts and, unless `uninstallOnStop` is false,
 * the entry and the binary are removed.
 *
 * @example
 * ```ts
 * const stop = new AbortController();
 * process.once('SIGTERM', () => stop.abort());
 * await watchCniInstall({ binary: '/opt/switchyard/bin/switchyard-cni', signal: stop.signal });
 * ```
 */
export async function watchCniInstall(options: CniWatchOptions): Promise<void> {
  const { signal, uninstallOnStop = true, intervalMs = CNI_WATCH_INTERVAL_MS, onEvent = () => {} } = options;
  const confDir = options.confDir ?? CNI_INSTALL_DEFAULTS.confDir;
  await mkdir(confDir, { recursive: true });
  let running: Promise<void> = Promise.resolve();
  let settle: NodeJS.Timeout | undefined;
  const reconcile = () => {
    running = running.then(async () => {
      if (signal.aborted) return;
      try {
        const result = await installCni(options);
        if (result.configChanged || result.binaryChanged) onEvent({ kind: 'installed', result });
      } catch (error) {
        onEvent({ kind: 'retry', error: error as Error });
      }
    });
  };
  const soon = () => {
    clearTimeout(settle);
    settle = setTimeout(reconcile, SETTLE_MS);
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(confDir, soon);
    watcher.on('error', (error) => onEvent({ kind: 'retry', error })); // the interval still checks
  } catch (error) {
    onEvent({ kind: 'retry', error: error as Error });
  }
  const timer = setInterval(reconcile, intervalMs);
  reconcile();
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  watcher?.close();
  clearInterval(timer);
  clearTimeout(settle);
  await running;
  if (uninstallOnStop) onEvent({ kind: 'uninstalled', files: await uninstallCni(options) });
}
