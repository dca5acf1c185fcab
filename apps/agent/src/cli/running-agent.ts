import { formatEndpoint } from '@switchyard/dataplane';
import { loadConfig } from '../config/validate-config.js';
import type { AgentStatus } from '../lifecycle/agent-status.js';
import { askAgent } from './status-command.js';

/** The agent answering on this node, as its `/status` names itself. */
export interface RunningAgent {
  /** Its version; `unknown` from an agent older than the `version` field. */
  version: string;
  pid: number;
  /** The node name it runs as. */
  node: string;
  /** The admin address it answered at. */
  admin: string;
}

/** What asking for the running agent found: the agent, or why none answered. */
export type RunningAgentAnswer = { running: RunningAgent } | { running: null; noAnswer: string };

/** How long a version query waits for the agent: it answers `/status` at once, even while starting. */
export const RUNNING_AGENT_TIMEOUT_MS = 2000;

/**
 * Asks the agent that runs with the config at `configPath` (at that config's admin address) who it
 * is. A config that cannot be read, or an agent that does not answer, is an answer too: `running`
 * null and `noAnswer` saying why, never a thrown error (`version` reports, it does not fail).
 */
export async function askRunningAgent(
  configPath: string,
  timeoutMs = RUNNING_AGENT_TIMEOUT_MS,
): Promise<RunningAgentAnswer> {
  let admin: string;
  try {
    const config = await loadConfig(configPath);
    admin = formatEndpoint({ address: config.admin.host, port: config.admin.port });
  } catch (error) {
    return { running: null, noAnswer: (error as Error).message };
  }
  try {
    const s = await askAgent<AgentStatus>(`http://${admin}/status`, timeoutMs);
    return { running: { version: s.version ?? 'unknown', pid: s.pid, node: s.node, admin } };
  } catch (error) {
    return { running: null, noAnswer: (error as Error).message };
  }
}
