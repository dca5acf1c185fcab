import { RuntimeUnavailableError } from '@switchyard/core';
import { formatEndpoint } from '@switchyard/dataplane';
import type { AgentConfig } from '../config/agent-config.js';
import type { Explanation } from '../policy/explain.js';
import type { AgentIo } from './agent-io.js';
import { EXIT } from './exit-codes.js';

/**
 * Asks the running agent (its admin `/explain`) what its data plane decides for a connection from
 * FROM to TO:PORT, and which policy decided. Exit 0 allowed, 1 denied (or no agent answers), 2 bad input.
 */
export async function explainCommand(
  config: AgentConfig,
  from: string,
  to: string,
  options: { json?: boolean },
  io: AgentIo,
): Promise<number> {
  const query = new URLSearchParams({ from, to });
  const url = `http://${formatEndpoint({ address: config.admin.host, port: config.admin.port })}/explain?${query}`;
  let response: Response;
  let body: Explanation | { error: string };
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    body = (await response.json()) as Explanation | { error: string };
  } catch (cause) {
    throw new RuntimeUnavailableError(
      `no agent answers at ${url} (${(cause as Error).message}); is switchyard-agent running with this config?`,
      { cause },
    );
  }
  if ('error' in body) {
    io.stderr(`switchyard-agent: ${body.error}\n`);
    return response.status === 400 ? EXIT.input : EXIT.failure;
  }
  io.stdout(options.json ? `${JSON.stringify(body, null, 2)}\n` : formatExplanation(body));
  return body.allowed ? EXIT.ok : EXIT.failure;
}

/** The human form: the connection, the decision and why, and every policy that applies. */
export function formatExplanation(e: Explanation): string {
  const who = [e.from.name, e.from.address].filter(Boolean).join(' ');
  const identity = e.from.peer ?? 'plain TCP, no identity';
  const lines = [
    `${who ? `${who} (${identity})` : identity} → ${e.to.workload} ${formatEndpoint(e.to)}`,
    `${e.allowed ? 'ALLOWED' : 'DENIED'}: ${e.reason}`,
  ];
  if (e.from.note) lines.push(`note: ${e.from.note}`);
  for (const a of e.audited) lines.push(`audited by AUDIT policy ${a}`);
  for (const d of e.dryRun) lines.push(`dry-run: ${d.action} policy ${d.policy} matches (not enforced)`);
  lines.push(
    e.policies.length === 0
      ? `no policy applies to ${e.to.workload}`
      : `policies applying to ${e.to.workload}:`,
  );
  for (const p of e.policies) {
    const mark = p.policy === e.policy ? '→' : ' ';
    lines.push(
      ` ${mark} ${p.kind === 'PeerAuthentication' ? 'PeerAuthentication' : p.action.padEnd(5)} ${p.policy}${p.dryRun ? ' (dry-run)' : ''}`,
    );
    for (const w of p.warnings) lines.push(`      ${w}`);
  }
  return `${lines.join('\n')}\n`;
}
