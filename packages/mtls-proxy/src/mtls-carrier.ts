import {
  type Accepted,
  abort,
  type Carrier,
  type CarrierContext,
  type CarrierFactory,
  type Endpoint,
  formatEndpoint,
  type HandshakeOptions,
  type HandshakeResult,
  NOT_TLS,
  outboundFailure,
  reportTlsFloods,
  sniffFirstByte,
  TlsTerminator,
  TruncationGuard,
  tlsSession,
} from '@switchyard/dataplane/carrier';
import type { WorkloadCertificate } from '@switchyard/mesh';

/**
 * The mTLS carrier: a captured outbound connection leaves as TLS 1.3 to its destination (where
 * the peer's inbound capture takes it), with the server's identity pinned; a captured inbound
 * connection is TLS terminated here and its peer handed to the data plane, which authorizes it
 * and delivers the bytes to the app. Nothing falls back to plaintext: only where the data plane
 * says plain TCP is accepted (PERMISSIVE) does a client whose first byte is not TLS go on as plain.
 */
export function mtlsCarrier(): CarrierFactory {
  return { name: 'mtls', create: (context) => new MtlsCarrier(context) };
}

class MtlsCarrier implements Carrier {
  readonly #c: CarrierContext;
  readonly #terminator: TlsTerminator;
  readonly #onRotated = (cert: WorkloadCertificate) => this.#terminator.rotate(cert);
  readonly #outboundFlood: ReturnType<typeof reportTlsFloods>;

  constructor(context: CarrierContext) {
    this.#c = context;
    this.#terminator = new TlsTerminator({
      certificate: context.workload.identity.current,
      handshakeTimeout: context.timeouts.handshake,
      onFlood: reportTlsFloods(context, 'inbound'),
    });
    this.#outboundFlood = reportTlsFloods(context, 'outbound');
    context.workload.identity.on('rotated', this.#onRotated);
  }

  async outbound(c: Accepted, destination: Endpoint): Promise<void> {
    const { workload, upstream } = this.#c;
    const outbound = workload.policy.outbound;
    const peerAt = outbound?.route?.(destination) ?? destination;
    const info = { source: c.client.address, destination: formatEndpoint(destination) };
    let verified: Awaited<ReturnType<typeof upstream.tls>>;
    try {
      verified = await upstream.tls({
        peer: peerAt,
        certificates: workload.identity,
        target: workload.target,
        authorization: outbound?.authorization,
        // A server's denial after the handshake ends its TCP without close_notify: a reset here.
        failOnTruncation: true,
        // A server flooding TLS records is counted and cut, never penalized (it is not a source).
        onFlood: (kind, detail) => this.#outboundFlood(kind, detail, undefined),
      });
    } catch (error) {
      this.#c.outboundFailed({ ...info, ...outboundFailure(error) });
      // A reset, as the native engine does: a clean end would read as a server that said nothing.
      return void abort(c.socket);
    }
    this.#c.track(verified.raw, verified.tls);
    if (c.socket.destroyed) return void verified.tls.destroy();
    await this.#c.relay('outbound', c.socket, verified.tls, { ...info, peer: verified.peer });
  }

  async handshake(c: Accepted, options?: HandshakeOptions): Promise<HandshakeResult> {
    if (options?.plainAccepted) {
      const first = await sniffFirstByte(c.socket, this.#c.timeouts.handshake);
      if (first === 'plain')
        return { ok: false, failure: NOT_TLS, reason: 'the first byte is not a TLS handshake record' };
      // A client waiting for the server to speak first (SMTP, MySQL) speaks plain TCP.
      if (first === 'timeout')
        return {
          ok: false,
          failure: NOT_TLS,
          reason: 'the client sent nothing within the handshake timeout',
        };
      if (first === 'closed')
        return {
          ok: false,
          failure: 'closed',
          reason: 'the peer closed the connection before sending a byte',
        };
    }
    return this.#tls(c);
  }

  /**
   * A peer's FIN without a close_notify is a truncation: the TLS socket fails (the relay resets
   * the app) instead of ending, as the native engine does (see {@link TruncationGuard}).
   */
  #tls(c: Accepted): Promise<HandshakeResult> {
    const guard = new TruncationGuard(c.socket);
    return new Promise<HandshakeResult>((resolve) => {
      this.#terminator.accept(guard, {
        failed: (failure, reason) => resolve({ ok: false, failure, reason }),
        secure: (tls) => {
          guard.watch(tls);
          // abort() writes its undecryptable record on the TCP socket under TLS (`_parent`).
          (tls as typeof tls & { _parent?: unknown })._parent = c.socket;
          tls.on('error', (error) => this.#c.logger.debug('inbound TLS error', { reason: error.message }));
          resolve({ ok: true, session: tlsSession(c.socket, tls) });
        },
      });
    });
  }

  drain(): void {
    // Plain TLS has no GOAWAY: the listeners are closed and open connections finish.
  }

  async close(): Promise<void> {
    // Open connections are the data plane's to abort (through their TLS, so the peer sees an error).
    this.#c.workload.identity.off('rotated', this.#onRotated);
  }
}
