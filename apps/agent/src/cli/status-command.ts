import { RuntimeUnavailableError } from '@switchyard/core';
import { formatEndpoint } from '@switchyard/dataplane';
import type { AgentStatus } from '../agent.js';
import { describeCarrierChoice } from '../carriers/choose-carrier.js';
import type { AgentConfig } from '../config/agent-config.js';
import type { WorkloadReport } from '../reconcile/workload-record.js';
import { formatServiceReport, parseServiceId } from '../services/service-status.js';
import type { AgentIo } from './agent-io.js';
import { EXIT } from './exit-codes.js';

/** Asks the running agent (its admin `/status`) what is captured where, and why not. */
export async function statusCommand(
  config: AgentConfig,
  options: { json?: boolean; service?: string },
  io: AgentIo,
): Promise<number> {
  const service = options.service === undefined ? undefined : parseServiceId(options.service);
  const query = service ? `?service=${encodeURIComponent(service)}` : '';
  const url = `http://${formatEndpoint({ address: config.admin.host, port: config.admin.port })}/status${query}`;
  const status = await askAgent<AgentStatus>(url);
  if (service) return serviceStatus(status, service, options, io);
  if (options.json) io.stdout(`${JSON.stringify(status, null, 2)}\n`);
  else io.stdout(formatStatus(status));
  const workloads = status.workloads ?? [];
  return !status.ready || status.sourceProblem || workloads.some((w) => w.phase !== 'captured')
    ? EXIT.failure
    : EXIT.ok;
}

/**
 * GETs a JSON document from the running agent's admin endpoint.
 *
 * @throws RuntimeUnavailableError when no agent answers there, or something else does.
 */
export async function askAgent<T>(url: string, timeoutMs = 5000, method = 'GET'): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { method, signal: AbortSignal.timeout(timeoutMs) });
  } catch (cause) {
    throw new RuntimeUnavailableError(
      `no agent answers at ${url} (${(cause as Error).message}); is switchyard-agent running with this config?`,
      { cause },
    );
  }
  const body = await response.text();
  try {
    if (response.ok) return JSON.parse(body) as T;
  } catch {}
  throw new RuntimeUnavailableError(
    `${url} answered ${response.status} ${body.trim().slice(0, 120)}; is the agent at that address, and as new as this command?`,
  );
}

/** `status --service NS/NAME`: that Service's endpoints and the identity pinned for each. */
function serviceStatus(status: AgentStatus, id: string, options: { json?: boolean }, io: AgentIo): number {
  if (status.starting !== undefined) {
    io.stderr(
      `switchyard-agent: the agent is starting (waiting for ${status.starting}); ask again once it is ready\n`,
    );
    return EXIT.failure;
  }
  if (status.service === undefined) {
    io.stderr(
      `switchyard-agent: this agent does not watch Services (its source is ${status.source}; Services come with the kubernetes source)\n`,
    );
    return EXIT.failure;
  }
  if (status.service === null) {
    io.stderr(`switchyard-agent: the agent knows no Service ${id}\n`);
    return EXIT.failure;
  }
  io.stdout(
    options.json ? `${JSON.stringify(status.service, null, 2)}\n` : formatServiceReport(status.service),
  );
  return EXIT.ok;
}

/** The human form of a status: one line per workload, and why it is not captured. */
export function formatStatus(s: AgentStatus): string {
  const state =
    s.starting !== undefined ? `starting: waiting for ${s.starting}` : s.ready ? 'ready' : 'not ready';
  const version = s.version ? ` · version ${s.version}` : '';
  const problem = s.sourceProblem
    ? `the last update of the ${s.source} source was rejected (${s.sourceProblem.since}); the workloads below are as they were before it:\n  ${s.sourceProblem.reason.split('\n').join('\n  ')}\n`
    : '';
  const carrier = s.carrier ? ` · carrier ${describeCarrierChoice(s.carrier)}` : '';
  const head = `node ${s.node} · source ${s.source} · driver ${s.driver}${carrier} · pid ${s.pid}${version} · ${state}\n${problem}`;
  const workloads = s.workloads ?? [];
  if (workloads.length === 0) return `${head}no workloads\n`;
  const rows = workloads.map((w) => [
    w.id,
    w.heldClosed ? `${w.phase} (held closed)` : w.phase,
    w.carrier ?? '-',
    w.target ?? '-',
    listeners(w),
    why(w),
  ]);
  const table = [['WORKLOAD', 'PHASE', 'CARRIER', 'TARGET', 'LISTENERS', 'WHY NOT'], ...rows];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  return (
    head +
    table
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') +
    '\n'
  );
}

function listeners(w: WorkloadReport): string {
  const ports = [...new Set((w.listeners ?? []).map((l) => `${l.role}:${l.port}`))];
  return ports.length > 0 ? ports.join(',') : '-';
}

function why(w: WorkloadReport): string {
  if (!w.error) return '';
  const retry = w.nextRetry ? ` (attempt ${w.attempts}, next ${w.nextRetry})` : '';
  const closed = w.heldClosed ? ' — capture kept, all its traffic refused until it can be served' : '';
  return `${w.error.code}: ${w.error.message.split('\n')[0]}${retry}${closed}`;
}
