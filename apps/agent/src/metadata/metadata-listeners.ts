import type { Server } from 'node:net';
import type { SocketOps, Target } from '@switchyard/core';
import { formatEndpoint } from '@switchyard/dataplane';
import type { MetadataEndpoint } from '../config/agent-config.js';
import { endpointFamilies } from './metadata-policy.js';
import { type RelayInputs, relayMetadata } from './metadata-relay.js';

/**
 * Opens the metadata listeners, one per family of the endpoints: inside a client's network
 * (Linux: a transparent listener in its namespace, which its captured connections reach), or
 * with no target in the agent's own network (Windows: HNS hands captured connections to the
 * host). Each accepted connection is relayed to the proxy container. If one family fails, the
 * listeners already open are closed again: nothing is left half open.
 */
export async function openMetadataListeners(
  socketOps: SocketOps,
  port: number,
  endpoints: readonly MetadataEndpoint[],
  relay: RelayInputs,
  target?: Target,
): Promise<Server[]> {
  const servers: Server[] = [];
  try {
    for (const family of endpointFamilies(endpoints)) {
      const server = await socketOps.listen({ port, family, ...(target ? { target } : {}) });
      servers.push(server);
      server.on('connection', (socket) =>
        relayMetadata(socket, relay).catch((error: Error) => {
          relay.logger.debug('metadata relay failed', { reason: error.message });
          socket.destroy();
        }),
      );
      server.on('error', (error) => relay.logger.warn('metadata listener error', { reason: error.message }));
    }
    return servers;
  } catch (error) {
    await closeListeners(servers);
    throw error;
  }
}

/** Closes listeners (their open connections carry on until either side ends them). */
export async function closeListeners(servers: readonly Server[]): Promise<void> {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
}

/** `address:port` of each listener, for status. */
export function listenerAddresses(servers: readonly Server[]): string[] {
  return servers.flatMap((s) => {
    const a = s.address();
    return a && typeof a === 'object' ? [formatEndpoint(a)] : [];
  });
}
