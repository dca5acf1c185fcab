import type { Socket } from 'node:net';
import type { CarrierFactory, Endpoint } from '@switchyard/dataplane';
import { formatEndpoint, proxyProtocolV2Header } from '@switchyard/dataplane';
import type { AnonymousCarrierContext } from '@switchyard/dataplane/carrier';
import type { MetadataCaller } from '../config/agent-config.js';
import type { RelayOutcome } from './metadata-status.js';

/** How long a dial to the proxy container may take, ms (it runs beside the agent). */
const PROXY_CONNECT_TIMEOUT_MS = 2000;

/** What the {@link forwardCarrier} asks of its owner, for each connection. */
export interface ForwardRoute {
  /** Where a connection to `destination` goes now, or why it is refused (fail closed). */
  to(destination: Endpoint): Endpoint | { refused: string };
  /** Counts one connection's outcome (status and the agent's metadata series). */
  count(outcome: RelayOutcome): void;
  /** How the proxy learns who called. Default `agent`. */
  caller?: MetadataCaller;
}

/**
 * The `forward` carrier: a plain forwarder with no identity (an anonymous carrier), for metadata
 * proxying. Each captured connection is dialled in plain TCP from the agent's own network to
 * where `route.to` says (the proxy container, read at every connection so a moved proxy is
 * followed at once) and relayed, bytes unchanged both ways; with nowhere to go it is reset. Its
 * workloads are the data plane's, so its connection limit, idle timeout, drain and metrics apply.
 *
 * Who the proxy sees as the caller is `route.caller`: `agent` dials from the agent's network (the
 * proxy sees the agent's side of the bridge); `source` dials from inside the client's own network
 * namespace (the workload's target), so the proxy sees the client's own address and nothing is
 * added to the bytes; `proxy-v2` dials as `agent` does and sends a PROXY protocol v2 header first,
 * naming the client's address and port and the metadata endpoint it asked for.
 */
export function forwardCarrier(route: ForwardRoute): CarrierFactory {
  return {
    name: 'forward',
    anonymous: true,
    create: (context) => ({
      async outbound(c, destination) {
        const to = route.to(destination);
        const info = { source: c.client.address, destination: formatEndpoint(destination) };
        if ('refused' in to) {
          route.count('refused');
          context.report({
            ...info,
            direction: 'outbound',
            outcome: 'refused',
            code: 'no-proxy',
            reason: to.refused,
          });
          return void c.socket.resetAndDestroy();
        }
        let upstream: Socket;
        try {
          upstream = await dialProxy(context, route.caller ?? 'agent', to);
        } catch (error) {
          route.count('failed');
          const reason = `the metadata proxy ${formatEndpoint(to)} is unreachable: ${(error as Error).message}`;
          context.report({ ...info, direction: 'outbound', outcome: 'failed', code: 'connect', reason });
          return void c.socket.resetAndDestroy();
        }
        route.count('relayed');
        context.track(upstream);
        if (c.socket.destroyed) return void upstream.destroy();
        if (route.caller === 'proxy-v2') upstream.write(proxyProtocolV2Header(c.client, destination));
        await context.relay('outbound', c.socket, upstream, info);
      },
      drain() {
        // Plain TCP has no GOAWAY: the listeners are closed and open connections finish.
      },
      async close() {
        // Open connections are the data plane's to reset.
      },
    }),
  };
}

/** Dials the proxy: from the client's own network namespace for `source`, else from the agent's. */
function dialProxy(context: AnonymousCarrierContext, caller: MetadataCaller, to: Endpoint): Promise<Socket> {
  const target = context.workload.target;
  if (caller === 'source' && target?.kind !== 'netns')
    throw new Error(
      'the caller cannot be kept as source here: the client has no network namespace to dial from',
    );
  return context.upstream.dial({
    destination: to,
    ...(caller === 'source' ? { target } : {}),
    signal: AbortSignal.timeout(PROXY_CONNECT_TIMEOUT_MS),
  });
}
