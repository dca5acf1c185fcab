import { AGENT_VERSION } from '../lifecycle/agent-version.js';
import type { AgentIo } from './agent-io.js';
import { EXIT } from './exit-codes.js';
import { askRunningAgent, type RunningAgent } from './running-agent.js';

/** What `switchyard-agent version --json` prints. */
export interface AgentVersionReport {
  /** This program's version. */
  agent: string;
  node: string;
  platform: string;
  /** The agent answering at the config's admin address, or null when none does. */
  running: RunningAgent | null;
  /** Why no agent answered (only when `running` is null). */
  noAnswer?: string;
}

/** The text line for the running agent, shared with `switchyard version`. */
export function runningAgentLine(running: RunningAgent | null, noAnswer?: string): string {
  return running
    ? `${running.version}, pid ${running.pid}, node ${running.node}, admin ${running.admin}`
    : `none answers (${noAnswer ?? 'not asked'})`;
}

/**
 * `switchyard-agent version`: this program's version and, like `istioctl version`, the version
 * of the agent running on this node (asked at the config's admin address; a missing config or a
 * silent agent is reported as "none answers" with the reason, not as an error).
 */
export async function versionCommand(
  configPath: string,
  options: { json?: boolean },
  io: AgentIo,
): Promise<number> {
  const report: AgentVersionReport = {
    agent: AGENT_VERSION,
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    ...(await askRunningAgent(configPath)),
  };
  if (options.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else
    io.stdout(
      `switchyard-agent ${report.agent} (node ${report.node}, ${report.platform})\n` +
        `running agent: ${runningAgentLine(report.running, report.noAnswer)}\n`,
    );
  return EXIT.ok;
}
