import { Agent } from '../agent.js';
import type { AgentConfig } from '../config/agent-config.js';
import { uninstall } from '../uninstall.js';
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
  options: { uninstall?: boolean },
  io: AgentIo,
): Promise<number> {
  if (options.uninstall) {
    const result = await uninstall(config);
    io.stdout(
      `Removed the capture rules of ${result.removed.length} target${result.removed.length === 1 ? '' : 's'}${result.removed.length ? `: ${result.removed.join(', ')}` : ''}` +
        `${result.gone.length ? `; already gone: ${result.gone.join(', ')}` : ''}. Removed ${config.stateDir}'s journal and issued certificates.\n`,
    );
    return EXIT.ok;
  }
  const agent = await Agent.start(config);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    for (const s of ['SIGTERM', 'SIGINT'] as const) process.once(s, () => resolve(s));
  });
  agent.logger.info('stopping', { signal, drainSeconds: config.drainSeconds });
  await agent.stop();
  // Everything is closed; should a handle still hold the event loop, say which, and exit anyway.
  setTimeout(() => {
    agent.logger.warn('exiting with handles still open', { handles: process.getActiveResourcesInfo() });
    process.exit(EXIT.ok);
  }, EXIT_GRACE_MS).unref();
  return EXIT.ok;
}
