import { InputInvalidError, quoteInput } from '@switchyard/core';
import { formatEndpoint, LOG_LEVELS } from '@switchyard/dataplane';
import type { AgentConfig } from '../config/agent-config.js';
import type { AgentIo } from './agent-io.js';
import { EXIT } from './exit-codes.js';
import { askAgent } from './status-command.js';

/**
 * `switchyard-agent log-level [LEVEL]`: reads, or changes until the agent restarts, the running
 * agent's log level through its admin endpoint (`GET` / `POST /logging?level=…`, loopback only).
 */
export async function logLevelCommand(
  config: AgentConfig,
  level: string | undefined,
  options: { json?: boolean },
  io: AgentIo,
): Promise<number> {
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level))
    throw new InputInvalidError(`log level ${quoteInput(level)}: use one of ${LOG_LEVELS.join(', ')}`);
  const admin = formatEndpoint({ address: config.admin.host, port: config.admin.port });
  const url = `http://${admin}/logging${level ? `?level=${level}` : ''}`;
  const answer = await askAgent<{ level: string }>(url, 5000, level ? 'POST' : 'GET');
  io.stdout(options.json ? `${JSON.stringify(answer)}\n` : `log level: ${answer.level}\n`);
  return EXIT.ok;
}
