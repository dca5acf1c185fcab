import { Agent } from '../agent.js';
import type { AgentConfig } from '../config/agent-config.js';
import { type UninstallResult, uninstall } from '../uninstall.js';
import type { AgentIo } from './agent-io.js';
import { EXIT } from './exit-codes.js';

/** How long the process may take to exit on its own once the agent has stopped, ms. */
const EXIT_GRACE_MS = 2_000;

/**
 * Runs the agent until SIGTERM or SIGINT, then drains and stops (rules kept). With `uninstall`,
 * removes everything the agent put on the node instead, and exits.
 */
export async function runCommand(
  config: AgentConfig,
  options: { uninstall?: boolean; dryRun?: boolean; json?: boolean },
  io: AgentIo,
): Promise<number> {
  if (options.uninstall) {
    const result = await uninstall(config, undefined, { dryRun: options.dryRun === true });
    io.stdout(options.json ? `${JSON.stringify(result, null, 2)}\n` : formatUninstall(result, config));
    return EXIT.ok;
  }
  // The handlers go in before start-up: a SIGTERM while the agent waits for an API stops the
  // start (what was started is stopped again, the lock released) instead of killing it mid-way.
  const stop = new AbortController();
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    for (const s of ['SIGTERM', 'SIGINT'] as const)
      process.once(s, () => {
        stop.abort(new Error(`${s} during start-up`));
        resolve(s);
      });
  });
  let agent: Agent;
  try {
    agent = await Agent.start(config, { signal: stop.signal });
  } catch (error) {
    if (!stop.signal.aborted) throw error;
    io.stderr(
      `switchyard-agent: stopped during start-up (${(error as Error).message}); nothing left running\n`,
    );
    exitAnyway(io);
    return EXIT.ok;
  }
  const signal = await signalled;
  agent.logger.info('stopping', { signal, drainSeconds: config.drainSeconds });
  await agent.stop();
  exitAnyway(io);
  return EXIT.ok;
}

/**
 * Everything is closed; should a handle still hold the event loop after {@link EXIT_GRACE_MS}
 * (a bug), say which and exit anyway.
 */
function exitAnyway(io: AgentIo): void {
  setTimeout(() => {
    io.stderr(
      `switchyard-agent: exiting with handles still open: ${process.getActiveResourcesInfo().join(', ')}\n`,
    );
    process.exit(EXIT.ok);
  }, EXIT_GRACE_MS).unref();
}

/** The human form of an uninstall: only what was (or would be) there to remove. */
export function formatUninstall(r: UninstallResult, config: AgentConfig): string {
  const verb = r.dryRun ? 'Would remove' : 'Removed';
  const lines: string[] = [];
  if (r.removed.length)
    lines.push(
      `${verb} the capture rules of ${r.removed.length} target${r.removed.length === 1 ? '' : 's'}: ${r.removed.join(', ')}`,
    );
  if (r.gone.length) lines.push(`Already gone: ${r.gone.join(', ')}`);
  if (r.certificates) lines.push(`${verb} the issued certificates in ${config.stateDir}`);
  if (r.journal) lines.push(`${verb} the journal in ${config.stateDir}`);
  if (lines.length === 0)
    lines.push(
      `Nothing to remove: no capture rules, certificates or journal of the agent (state ${config.stateDir})`,
    );
  if (r.dryRun) lines.push('Nothing was changed (--dry-run).');
  return `${lines.join('.\n')}${lines.at(-1)?.endsWith('.') ? '' : '.'}\n`;
}
