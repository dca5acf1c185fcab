import type { Socket } from 'node:net';
import type { SocketOps } from '@switchyard/core';
import type { Logger } from '@switchyard/dataplane';
import { splice } from '@switchyard/dataplane';
import type { MetadataEndpoint } from '../config/agent-config.js';
import type { RelayOutcome } from './metadata-metrics.js';
import type { PlannedProxy } from './metadata-plan.js';

/** How relayed metadata connections ended, counted for status. */
export interface RelayCounts {
  relayed: number;
  /** Refused: no proxy runs (fail closed), or a destination that is not a metadata endpoint. */
  refused: number;
  /** The proxy container could not be reached. */
  failed: number;
}

/** What one relayed connection needs; `proxy()` is read at accept time, so a moved proxy is followed at once. */
export interface RelayInputs {
  socketOps: SocketOps;
  endpoints: readonly MetadataEndpoint[];
  proxy(): PlannedProxy | undefined;
  /** The proxy container's port; default the port the client dialled. */
  proxyPort?: number;
  /** Socket mark of the dial to the proxy, so it is never captured again. */
  mark?: number;
  connectTimeoutMs: number;
  /** Counts one connection's outcome (status and metrics). */
  count(outcome: RelayOutcome): void;
  logger: Logger;
}

/**
 * Carries one captured metadata connection to the proxy container, bytes unchanged in both
 * directions with each side's end passed on; resolves when both are closed. With no proxy, or a destination that is not a
 * metadata endpoint, the connection is reset: the client never reaches the endpoint directly.
 */
export async function relayMetadata(client: Socket, r: RelayInputs): Promise<void> {
  client.on('error', (error) => r.logger.debug('metadata client reset', { reason: error.message }));
  const destination = r.socketOps.transparent ? r.socketOps.originalDestination(client) : undefined;
  const endpoint = destination
    ? r.endpoints.find((e) => e.address === destination.address && e.port === destination.port)
    : r.endpoints[0];
  const proxy = r.proxy();
  if (!endpoint || !proxy) {
    r.count('refused');
    client.resetAndDestroy();
    return;
  }
  let upstream: Socket;
  try {
    upstream = await r.socketOps.dial({
      destination: { address: proxy.address, port: r.proxyPort ?? endpoint.port },
      timeout: r.connectTimeoutMs,
      ...(r.mark !== undefined ? { mark: r.mark } : {}),
    });
  } catch (error) {
    r.count('failed');
    r.logger.debug('metadata proxy unreachable', { proxy: proxy.name, reason: (error as Error).message });
    client.resetAndDestroy();
    return;
  }
  r.count('relayed');
  // The mesh's splice: back-pressure, half-close, and a cut on one side aborts the other.
  await splice(client, upstream);
}
