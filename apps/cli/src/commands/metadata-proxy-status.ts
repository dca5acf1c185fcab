import type { MetadataProxyStatus } from '@switchyard/agent';
import { InputInvalidError, RuntimeUnavailableError } from '@switchyard/core';
import { DATAPLANE_PORTS } from '@switchyard/dataplane';
import { EXIT } from '../exit-codes.js';
import { type CliIo, printJson } from '../io.js';

/** Where `metadata-proxy status` asks unless `--admin` says: the agent's default admin address. */
export const DEFAULT_AGENT_ADMIN = `127.0.0.1:${DATAPLANE_PORTS.admin}`;

/** How long the agent may take to answer, ms. */
const ANSWER_MS = 5000;

/** `http://HOST:PORT/status` from `HOST:PORT` (`[::1]:15020` for IPv6). */
function statusUrl(admin: string): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(admin);
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535)
    throw new InputInvalidError(
      `--admin ${JSON.stringify(admin)} is not HOST:PORT; write it like 127.0.0.1:15020 (the agent's admin.host and admin.port)`,
    );
  return `http://${m[1]}:${port}/status`;
}

/** Asks the running agent's admin endpoint for its metadata proxying status. */
export async function fetchMetadataStatus(admin: string): Promise<MetadataProxyStatus> {
  const url = statusUrl(admin);
  let body: { metadataProxy?: MetadataProxyStatus };
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(ANSWER_MS) });
    body = (await response.json()) as typeof body;
  } catch (cause) {
    throw new RuntimeUnavailableError(
      `no agent answers at ${url} (${(cause as Error).message}); is switchyard-agent running, and is --admin its admin address?`,
      { cause },
    );
  }
  if (!body.metadataProxy)
    throw new RuntimeUnavailableError(
      `the agent at ${admin} does not proxy metadata; add a metadataProxy section to its config (docs/metadata-proxy.md)`,
    );
  return body.metadataProxy;
}

/**
 * `switchyard metadata-proxy status`: the clients, the proxy and what is applied where. Exit 1
 * when a client's capture failed.
 */
export async function metadataProxyStatusCommand(io: CliIo, admin: string, json: boolean): Promise<number> {
  const status = await fetchMetadataStatus(admin);
  if (json) printJson(io, status);
  else io.stdout(formatMetadataStatus(status));
  return status.clients.some((c) => c.phase === 'failed') ? EXIT.failure : EXIT.ok;
}

/** The human form: a summary line, the proxy, then one row per client and per ignored container. */
export function formatMetadataStatus(s: MetadataProxyStatus): string {
  const lines = [
    `docker ${s.docker} · label ${s.label} · endpoints ${s.endpoints.join(', ')} · without a proxy: ${s.whenNoProxy}${s.caller ? ` · caller: ${s.caller}` : ''}`,
    s.proxy
      ? `proxy ${s.proxy.name} at ${s.proxy.address}${s.standby.length ? ` (standing by: ${s.standby.map((p) => p.name).join(', ')})` : ''}`
      : `proxy none: clients' metadata connections are ${s.whenNoProxy === 'refuse' ? 'refused' : 'sent directly'}`,
    `connections relayed ${s.connections.relayed}, refused ${s.connections.refused}, failed ${s.connections.failed}`,
  ];
  const rows = [
    ['CLIENT', 'PHASE', 'TARGET', 'LISTENERS', 'ERROR'],
    ...s.clients.map((c) => [c.name, c.phase, c.target ?? '-', c.listeners.join(',') || '-', c.error ?? '']),
    ...s.ignored.map((c) => [c.name, 'ignored', '-', '-', c.reason]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const table = rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  return `${[...lines, ...(s.clients.length + s.ignored.length > 0 ? table : ['no client containers'])].join('\n')}\n`;
}
