import { formatEndpoint, PROXY_PORTS } from '@switchyard/core';
import type {
  Accepted,
  CarrierContext,
  CarrierListener,
  HandshakeResult,
  PeerSession,
} from '@switchyard/dataplane/carrier';
import type { HboneAuthority } from './authority.js';
import { readServerName } from './client-hello.js';
import type { HboneClient } from './hbone-client.js';

/** The SNI gateway's port, as the hbone project uses it (core's {@link PROXY_PORTS}). */
export const SNI_GATEWAY_PORT = PROXY_PORTS.sniGateway;

/** Where a server name leads: the HBONE peer to tunnel through, and the target behind it. */
export interface SniRoute {
  peer: HboneAuthority;
  destination: HboneAuthority;
}

/** How the SNI gateway routes (`hboneCarrier({ sniGateway })`, with `policy.ports.sniGateway`). */
export interface SniGatewayRouting {
  /** Maps a server name to its route; undefined refuses the connection. */
  route: (serverName: string) => SniRoute | undefined;
  /** Told why a connection was refused (no ClientHello, not TLS, no SNI, no route). */
  onRefused?: (reason: string) => void;
  /** Give up on a client that has not sent its ClientHello after this long, ms. Default: the data plane's handshake timeout. */
  helloTimeoutMs?: number;
}

/** A client's first TLS record, held whole: it is forwarded as it came. */
interface Hello extends PeerSession {
  hello: Buffer;
  serverName: string;
}

/**
 * The SNI-routing gateway (from the hbone project) as a listener of the HBONE carrier: it reads
 * the server name from a client's TLS ClientHello — without terminating the session — and
 * forwards the whole session through an HBONE tunnel to the peer that name routes to. The
 * client's TLS runs end to end with the target; the gateway never holds its keys. The data plane
 * admits each connection (limits, drain), gates and times the wait for the ClientHello as it
 * does a handshake, and counts what happens in its metrics.
 */
export function sniGatewayListener(
  context: CarrierContext,
  client: HboneClient,
  port: number,
  routing: SniGatewayRouting,
): CarrierListener {
  const inbound = context.workload.policy.inbound;
  const refused = (reason: string) => routing.onRefused?.(reason);
  return {
    name: 'sni-gateway',
    port,
    ...(inbound?.host ? { host: inbound.host } : {}),
    ...(inbound?.families ? { families: inbound.families } : {}),
    anonymous: true,
    handshake: (c) => readHello(c, routing.helloTimeoutMs ?? context.timeouts.handshake, refused),
    accept: (c, session) => void forward(context, client, routing, c, session as Hello),
  };
}

/** Gathers the first record, holding on to every byte, until the server name can be read. */
function readHello(
  c: Accepted,
  timeoutMs: number,
  refused: (reason: string) => void,
): Promise<HandshakeResult> {
  const { socket } = c;
  socket.pause();
  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise<HandshakeResult>((resolve) => {
    const settle = (result: HandshakeResult) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (!result.ok) refused(result.reason);
      resolve(result);
    };
    const timer = setTimeout(
      () => settle({ ok: false, failure: 'timeout', reason: 'no ClientHello' }),
      timeoutMs,
    );
    const onClose = () => settle({ ok: false, failure: 'closed', reason: 'no ClientHello' });
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      const hello = Buffer.concat(chunks, size);
      const parsed = readServerName(hello);
      if (parsed.kind === 'incomplete') return;
      if (parsed.kind === 'not-tls') return settle({ ok: false, failure: 'protocol', reason: parsed.reason });
      if (parsed.kind === 'absent') return settle({ ok: false, failure: 'no-sni', reason: 'no server name' });
      settle({ ok: true, session: helloSession(c, hello, parsed.serverName) });
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.resume();
  });
}

function helloSession(c: Accepted, hello: Buffer, serverName: string): Hello {
  return {
    peer: undefined,
    hello,
    serverName,
    deliver: async () => undefined,
    refuse: async () => void c.socket.destroy(),
  };
}

/** A client that said hello: its route, an HBONE tunnel there, and the session relayed through it. */
async function forward(
  context: CarrierContext,
  client: HboneClient,
  routing: SniGatewayRouting,
  c: Accepted,
  h: Hello,
): Promise<void> {
  const source = c.client.address;
  const route = routing.route(h.serverName);
  if (!route) {
    const reason = `no route for ${h.serverName}`;
    routing.onRefused?.(reason);
    context.report({ direction: 'inbound', outcome: 'refused', code: 'no-route', source, reason });
    return void c.socket.destroy();
  }
  const info = { source, destination: formatEndpoint(route.destination) };
  let tunnel: Awaited<ReturnType<HboneClient['connect']>>;
  try {
    tunnel = await client.connect({ destination: route.destination, peer: route.peer, client: c.client });
  } catch (error) {
    const reason = `the tunnel for ${h.serverName} failed: ${(error as Error).message}`;
    context.report({ ...info, direction: 'inbound', outcome: 'failed', code: 'tunnel', reason });
    return void c.socket.destroy();
  }
  if (c.socket.destroyed) return void tunnel.destroy();
  tunnel.write(h.hello);
  await context.relay('inbound', c.socket, tunnel, info);
}
