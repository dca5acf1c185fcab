import type { RunningAgent } from '@switchyard/agent';

/** What `switchyard version` found of the node agent running here. */
export interface RunningAgentVersion {
  /** The agent that answered, or null. */
  runningAgent: RunningAgent | null;
  /** Why none answered (only when `runningAgent` is null). */
  noAnswer?: string;
  /** The report's text line. */
  line: string;
}

/**
 * Asks the node agent running with the config at `agentConfig` (default: the agent's own default)
 * for its version, through `@switchyard/agent`, an optional peer of the CLI: without it installed,
 * nothing is asked and the report says so.
 */
export async function runningAgentVersion(agentConfig: string | undefined): Promise<RunningAgentVersion> {
  let agent: typeof import('@switchyard/agent');
  try {
    agent = await import('@switchyard/agent');
  } catch {
    const noAnswer = '@switchyard/agent is not installed beside the CLI, so no agent was asked';
    return { runningAgent: null, noAnswer, line: `none answers (${noAnswer})` };
  }
  const answer = await agent.askRunningAgent(agentConfig ?? agent.AGENT_DEFAULTS.configPath);
  const line = agent.runningAgentLine(answer.running, 'noAnswer' in answer ? answer.noAnswer : undefined);
  return 'noAnswer' in answer
    ? { runningAgent: null, noAnswer: answer.noAnswer, line }
    : { runningAgent: answer.running, line };
}
