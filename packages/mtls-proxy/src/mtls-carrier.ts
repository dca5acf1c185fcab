import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  type Accepted,
  type Carrier,
  type CarrierContext,
  type CarrierFactory,
  type Endpoint,
  formatEndpoint,
  singleSpiffeId,
  TlsTerminator,
} from '@switchyard/dataplane';
import {
  authorize,
  defaultInboundPolicy,
  parseSpiffeId,
  type SpiffeId,
  spiffeIdsFromSan,
  type WorkloadCertificate,
} from '@switchyard/mesh';

/**
 * The mTLS carrier: a captured outbound connection leaves as TLS 1.3 to its destination (where
 * the peer's inbound capture takes it), with the server's identity pinned; a captured inbound
 * connection is TLS terminated here, the client's identity authorized, and the bytes delivered
 * to the app. Nothing falls back to plaintext.
 */
export function mtlsCarrier(): CarrierFactory {
  return { name: 'mtls', create: (context) => new MtlsCarrier(context) };
}

class MtlsCarrier implements Carrier {
  readonly #c: CarrierContext;
  readonly #terminator: TlsTerminator;
  readonly #onRotated = (cert: WorkloadCertificate) => this.#terminator.rotate(cert);

  constructor(context: CarrierContext) {
    this.#c = context;
    this.#terminator = new TlsTerminator({
      certificate: context.workload.identity.current,
      handshakeTimeout: context.timeouts.handshake,
    });
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
      });
    } catch (error) {
      const e = error as { code?: string; reason?: string; message: string };
      const identity = e.code === 'SWY_ERR_UPSTREAM_IDENTITY';
      this.#c.report({
        ...info,
        direction: 'outbound',
        outcome: identity ? 'denied' : 'failed',
        code: identity ? (e.reason ?? 'policy') : e.code === 'SWY_ERR_UPSTREAM_TLS' ? 'tls' : 'connect',
        reason: e.message,
      });
      if (e.code === 'SWY_ERR_UPSTREAM_TLS')
        this.#c.metrics.tlsFailures.inc({ ...this.#c.labels, direction: 'outbound', reason: 'handshake' });
      return void c.socket.destroy();
    }
    this.#c.track(verified.raw, verified.tls);
    if (c.socket.destroyed) return void verified.tls.destroy();
    await this.#c.relay('outbound', c.socket, verified.tls, { ...info, peer: verified.peer });
  }

  inbound(c: Accepted, destination: Endpoint): Promise<void> {
    const done = this.#c.beginHandshake(c);
    if (!done) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#terminator.accept(c.socket, {
        failed: (failure, reason) => {
          done();
          this.#c.tlsFailure('inbound', failure, reason, c.client.address);
          c.socket.destroy();
          resolve();
        },
        secure: (tls) => {
          done();
          tls.on('error', (error) => this.#c.logger.debug('inbound TLS error', { reason: error.message }));
          void this.#authorized(c, tls, destination).then(resolve);
        },
      });
    });
  }

  async #authorized(c: Accepted, tls: TLSSocket, destination: Endpoint): Promise<void> {
    const { workload } = this.#c;
    const inbound = workload.policy.inbound;
    const info = { source: c.client.address, destination: formatEndpoint(destination) };
    const one = singleSpiffeId(spiffeIdsFromSan(tls.getPeerCertificate()?.subjectaltname));
    const self = parseSpiffeId(workload.identity.current.spiffeId) as SpiffeId;
    const decision = one.id
      ? authorize(inbound?.authorization ?? defaultInboundPolicy(self), self, one.id)
      : { allowed: false, reason: one.reason ?? 'no identity' };
    if (!decision.allowed) {
      this.#c.report({
        ...info,
        direction: 'inbound',
        outcome: 'denied',
        code: one.id ? 'policy' : 'identity',
        reason: decision.reason,
        ...(one.id ? { peer: one.id } : {}),
      });
      return void c.socket.destroy();
    }
    if (!this.#c.established(c.socket, 'inbound', c.client.address, tls)) return void c.socket.destroy();
    let app: Socket;
    try {
      app = await this.#c.dialApp(destination, c.client.address);
    } catch (error) {
      this.#c.report({
        ...info,
        direction: 'inbound',
        outcome: 'failed',
        code: 'connect',
        peer: one.id as string,
        reason: `connect to ${info.destination} failed: ${(error as Error).message}`,
      });
      return void c.socket.destroy();
    }
    this.#c.track(app);
    if (tls.destroyed) return void app.destroy();
    await this.#c.relay('inbound', tls, app, { ...info, peer: one.id as string });
  }

  drain(): void {
    // Plain TLS has no GOAWAY: the listeners are closed and open connections finish.
  }

  async close(): Promise<void> {
    // Open connections are the data plane's to abort (through their TLS, so the peer sees an error).
    this.#c.workload.identity.off('rotated', this.#onRotated);
  }
}
