import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Accepted, RelayOutcome } from './carrier.js';
import type { ReportInfo } from './connection-report.js';
import type { Endpoint } from './decide.js';
import { dialApp } from './dial-app.js';
import type { Direction } from './metrics.js';
import { splice } from './splice.js';
import { formatEndpoint } from './upstream.js';
import type { WorkloadParts } from './workload-parts.js';

/** Joins two streams both ways until both are closed: bytes each way, and how it ended. */
export async function spliceOutcome(client: Duplex, server: Duplex): Promise<RelayOutcome> {
  const result = await splice(client, server);
  return {
    up: result.aToB,
    down: result.bToA,
    ...(result.error ? { code: 'reset', reason: result.error.message } : {}),
  };
}

/** Joins two streams and reports the bytes moved. */
export async function relay(
  parts: WorkloadParts,
  direction: Direction,
  client: Duplex,
  server: Duplex,
  info: ReportInfo,
): Promise<void> {
  parts.reporter.relayed(direction, await spliceOutcome(client, server), info);
}

/** Plain TCP where the policy allows it: dial the destination (the app, inbound) and relay. */
export async function relayPlain(
  parts: WorkloadParts,
  direction: Direction,
  c: Accepted,
  destination: Endpoint,
  why: string,
  service?: string,
): Promise<void> {
  const info = {
    source: c.client.address,
    destination: formatEndpoint(destination),
    reason: why,
    ...(service ? { service } : {}),
  };
  let upstream: Socket;
  try {
    upstream =
      direction === 'inbound'
        ? await dialApp(parts, destination, c.client.address)
        : await parts.inputs.upstream.dial({ destination, target: parts.spec.target });
  } catch (error) {
    parts.reporter.report({
      ...info,
      direction,
      outcome: 'failed',
      code: 'connect',
      reason: `connect to ${info.destination} failed: ${(error as Error).message}`,
    });
    return void c.socket.destroy();
  }
  parts.admission.track(upstream);
  if (c.socket.destroyed) return void upstream.destroy();
  await relay(parts, direction, c.socket, upstream, info);
}
