import type { Socket } from 'node:net';
import type { CarrierContext, RelayOutcome } from '@switchyard/dataplane/carrier';
import type { IncomingTunnel } from '../h2-session.js';
import type { RelayEngine } from '../relay-engine.js';
import type { TlsContext } from '../tls-credentials.js';
import { loopbackPair } from './loopback-pair.js';
import { tunnelOutcome } from './tunnel-outcome.js';

/** One POST-mode tunnel the data plane let through: the stream, the app it dialled, who asked. */
export interface PostTunnel {
  tunnel: IncomingTunnel;
  app: Socket;
  /** The outer connection's SPIFFE ID: the inner one must be the same. */
  peer: string | undefined;
  source: string;
}

/**
 * POST mode on the engine (for infrastructure that forwards only ordinary requests): the stream
 * carries the workloads' own mTLS, which the engine terminates too. The stream's bytes go to one
 * end of a loopback pair, the engine's TLS server takes the other end, and its plaintext goes to
 * the app once the inner peer has proved the outer identity (as the JavaScript server checks);
 * else the stream is reset and the app's socket closed. Resolves with the tunnel's end as the data
 * plane reports it (the inner plaintext's bytes), undefined when it was refused here.
 */
export async function carryPost(
  c: CarrierContext,
  engine: RelayEngine,
  tls: TlsContext,
  p: PostTunnel,
): Promise<RelayOutcome | undefined> {
  let pair: [Socket, Socket];
  try {
    pair = await loopbackPair();
  } catch (error) {
    p.app.destroy();
    p.tunnel.refuse(503);
    return { up: 0, down: 0, code: 'handoff', reason: (error as Error).message };
  }
  const [toStream, toTls] = pair;
  const streamEnded = p.tunnel.accept(toStream); // 200: the inner ClientHello may come
  const inner = await engine.tls({ role: 'server', socket: toTls, credentials: tls });
  if (!inner.ok || inner.spiffeId !== p.peer) {
    const reason = inner.ok
      ? `inner identity ${inner.spiffeId || '(none)'} is not the outer ${p.peer}`
      : `inner TLS failed: ${inner.reason} ${inner.detail}`;
    c.report({ direction: 'inbound', outcome: 'denied', code: 'inner-identity', reason, source: p.source });
    if (inner.ok) void inner.reject();
    p.app.destroy();
    p.tunnel.reset();
    await streamEnded;
    return undefined;
  }
  const [stream, plain] = await Promise.all([streamEnded, inner.accept(p.app)]);
  const outcome = stream ? tunnelOutcome(stream) : { up: 0, down: 0 };
  // the engine's inner `up` runs from the peer to the app, as the data plane counts inbound bytes
  return { ...outcome, up: plain.up, down: plain.down };
}
