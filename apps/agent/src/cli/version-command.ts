import { formatEndpoint } from '@switchyard/dataplane';
import type { AgentStatus } from '../agent.js';
import { loadConfig } from '../config/validate-config.js';
import { AGENT_VERSION } from '../lifecycle/agent-version.js';
import type { AgentIo } from './agent-io.js';
import { EXIT } from './exit-codes.js';
import { askAgent } from './status-command.js';

/** What `switchyard-agent version --json` prints. */
export interface AgentVersionReport {
  /** This program's version. */
  agent: string;
  node: string;
  platform: string;
  /** The agent answering at the config's admin address, or null when none does (or no config). */
  running: { version: string; pid: number; node: string; admin: string } | null;
}

/**
 * `switchyard-agent version`: this program's version and, like `istioctl version`, the version
 * of the agent running on this node (asked at the config's admin address; a missing config or a
 * silent agent is reported as "none", not as an error).
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
    running: await runningAgent(configPath),
  };
  if (options.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else {
    io.stdout(`switchyard-agent ${report.agent} (node ${report.node}, ${report.platform})\n`);
    const r = report.running;
    io.stdout(
      r
        ? `running agent: ${r.version ?? 'unknown (older than this command)'}, pid ${r.pid}, node ${r.node}, admin ${r.admin}\n`
        : 'running agent: none answers (see "switchyard-agent status")\n',
    );
  }
  return EXIT.ok;
}

async function runningAgent(configPath: string): Promise<AgentVersionReport['running']> {
  try {
    const config = await loadConfig(configPath);
    const admin = formatEndpoint({ address: config.admin.host, port: config.admin.port });
    const s = await askAgent<AgentStatus>(`http://${admin}/status`, 2000);
    return { version: s.version, pid: s.pid, node: s.node, admin };
  } catch {
    return null;
  }
}
