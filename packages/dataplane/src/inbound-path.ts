import type { Socket } from 'node:net';
import { cidrMatcher } from '@switchyard/core';
import type { AuthorizationPolicy } from '@switchyard/mesh';
import { authorizeInbound } from './authorize-inbound.js';
import type {
  Accepted,
  CarrierListener,
  ConnectionReport,
  InboundAuthorization,
  InboundStream,
  PeerSession,
  StreamFacts,
  StreamVerdict,
} from './carrier.js';
import type { ReportInfo } from './connection-report.js';
import { decideAuthority, decideInbound, type Endpoint } from './decide.js';
import { dialApp } from './dial-app.js';
import { handshake } from './handshake.js';
import type { InboundAuthorizer, InboundRequest } from './inbound-authorization.js';
import { relay, relayPlain } from './relay.js';
import { NOT_TLS } from './sniff.js';
import { formatEndpoint } from './upstream.js';
import type { WorkloadParts } from './workload-parts.js';

/**
 * The inbound stage of one workload, for every carrier: a captured connection goes through the
 * loop check and the plaintext decision, then admit → gate → handshake → authorize → established
 * → dial the app → deliver → report; a carrier listener's connection through the same handshake
 * and authorization; a tunnel (an HBONE stream) through authorize → authority → dial → relay.
 */
export class InboundPath {
  readonly #p: WorkloadParts;
  readonly #plainSource: (address: string) => boolean;

  constructor(parts: WorkloadParts) {
    this.#p = parts;
    this.#plainSource = cidrMatcher(parts.spec.policy.inbound?.plaintextSources ?? []);
  }

  /**
   * The one inbound authorization point, for connections and streams of every carrier
   * (`listener`: a carrier listener's own allow rules instead of the workload's inbound ones).
   */
  authorize(
    peer: string | undefined,
    identityError?: string,
    listener?: AuthorizationPolicy,
    at?: { source: string; destination?: Endpoint },
  ): InboundAuthorization {
    const authorizer = this.#p.inputs.authorizer;
    // With the data plane's authorizer (the cluster's policies), it decides where the workload's
    // own rules would: per connection or stream, with the source and the port asked for.
    if (authorizer && !listener) {
      if (peer === undefined && !(at?.destination && identityError === undefined))
        return {
          allowed: false,
          code: 'identity',
          reason: identityError ?? 'the peer presented no SPIFFE identity',
        };
      // A connection-level check (an HBONE connection before its streams name a port) needs an identity only.
      if (!at?.destination) return { allowed: true, reason: 'identity presented; each stream is authorized' };
      return this.#ask(authorizer, {
        workload: this.#p.spec.id,
        source: at.source,
        destination: at.destination,
        peer,
      });
    }
    const inbound = this.#p.spec.policy.inbound;
    return authorizeInbound({
      policy: listener ? { ...inbound, authorization: listener } : inbound,
      self: this.#p.spec.identity?.current.spiffeId ?? '',
      peer,
      identityError,
    });
  }

  /** The authorizer's verdict; one that throws denies (fail closed). */
  #ask(authorizer: InboundAuthorizer, request: InboundRequest): InboundAuthorization {
    try {
      const v = authorizer.authorize(request);
      return v.allowed
        ? { allowed: true, reason: v.reason, ...(v.policy ? { policy: v.policy } : {}) }
        : { allowed: false, code: 'policy', reason: v.reason, ...(v.policy ? { policy: v.policy } : {}) };
    } catch (error) {
      return { allowed: false, code: 'policy', reason: `the authorizer failed: ${(error as Error).message}` };
    }
  }

  /** A connection accepted on the captured inbound port. */
  captured(c: Accepted): void {
    const { spec, reporter, admission } = this.#p;
    const inbound = spec.policy.inbound!;
    const destination = { address: c.originalDestination.address, port: c.originalDestination.port };
    if (!inbound.fixedDestination && this.#p.proxyPorts().includes(destination.port)) {
      // A connection aimed at one of the proxy's own ports is never relayed (no loop).
      reporter.report({
        direction: 'inbound',
        outcome: 'refused',
        code: 'loop',
        source: c.client.address,
        reason: `${destination.port} is the proxy's own port`,
      });
      return void c.socket.destroy();
    }
    const decision = decideInbound({
      sourceAllowedPlain: this.#plainSource(c.client.address),
      portAllowedPlain: inbound.plaintextPorts?.includes(destination.port) === true,
    });
    if (decision.kind === 'plaintext') {
      admission.admit(
        'inbound',
        c,
        () => void relayPlain(this.#p, 'inbound', c, destination, decision.reason),
      );
      return;
    }
    admission.admit('pending', c, () => void this.#secure(c, destination));
  }

  async #secure(c: Accepted, destination: Endpoint): Promise<void> {
    const carrier = this.#p.carrier();
    if (!carrier.handshake && this.#p.inputs.authorizer) return this.#plainByPolicy(c, destination);
    if (!carrier.handshake) {
      this.#p.reporter.report({
        direction: 'inbound',
        outcome: 'refused',
        code: 'plain-inbound',
        source: c.client.address,
        reason: `plain TCP from a source not allowed; peers must use the ${this.#p.spec.carrier.name} carrier's own listener`,
      });
      return void c.socket.destroy();
    }
    const plainAccepted = this.#plainAccepted(c.client.address, destination);
    const options = plainAccepted ? { plainAccepted } : undefined;
    const session = await handshake(
      this.#p,
      c,
      (x) => carrier.handshake!(x, options),
      destination,
      plainAccepted,
    );
    if (session === NOT_TLS) return this.#plainByPolicy(c, destination);
    if (!session) return;
    return this.#deliver(c, destination, session);
  }

  /** Whether the authorizer's mTLS mode accepts plain TCP here (PERMISSIVE); one that throws does not. */
  #plainAccepted(source: string, destination: Endpoint): boolean {
    const accepts = this.#p.inputs.authorizer?.plainAccepted;
    if (!accepts) return false;
    try {
      return (
        accepts.call(this.#p.inputs.authorizer, { workload: this.#p.spec.id, source, destination }) === true
      );
    } catch {
      return false;
    }
  }

  /**
   * Plain TCP on the captured port from a client outside the mesh — on a carrier whose peers use
   * its own listener (HBONE), or one whose handshake found no TLS where plain was accepted —
   * delivered only where the authorizer lets plain TCP in (PERMISSIVE, and no policy denying it).
   */
  #plainByPolicy(c: Accepted, destination: Endpoint): void {
    const source = c.client.address;
    const decision = this.authorize(undefined, undefined, undefined, { source, destination });
    if (!decision.allowed) {
      this.#p.reporter.report({
        direction: 'inbound',
        outcome: 'denied',
        code: decision.code ?? 'policy',
        reason: decision.reason,
        source,
        destination: formatEndpoint(destination),
        ...(decision.policy ? { policy: decision.policy } : {}),
      });
      return void c.socket.destroy();
    }
    if (!this.#p.admission.established(c.socket, 'inbound', source)) return void c.socket.destroy();
    void relayPlain(this.#p, 'inbound', c, destination, decision.reason);
  }

  /** Authorize → established → dial the app → deliver → report. */
  async #deliver(c: Accepted, destination: Endpoint, session: PeerSession): Promise<void> {
    const { reporter, admission } = this.#p;
    const info = { source: c.client.address, destination: formatEndpoint(destination) };
    const peer = session.peer ? { peer: session.peer } : {};
    const decision = this.authorize(session.peer, session.identityError, undefined, {
      source: c.client.address,
      destination,
    });
    if (!decision.allowed) {
      reporter.report({
        ...info,
        ...peer,
        direction: 'inbound',
        outcome: 'denied',
        code: decision.code,
        reason: decision.reason,
        ...(decision.policy ? { policy: decision.policy } : {}),
      });
      return session.refuse();
    }
    if (!admission.established(c.socket, 'inbound', c.client.address, session.outer)) return session.refuse();
    let app: Socket;
    try {
      app = await dialApp(this.#p, destination, c.client.address);
    } catch (error) {
      reporter.report({
        ...info,
        ...peer,
        direction: 'inbound',
        outcome: 'failed',
        code: 'connect',
        reason: `connect to ${info.destination} failed: ${(error as Error).message}`,
      });
      return session.refuse();
    }
    admission.track(app);
    const done: ReportInfo = { ...info, ...peer };
    // Not awaited here: while the connection lives, only the report's fields stay in memory.
    return session.deliver(app).then((outcome) => {
      if (outcome) reporter.relayed('inbound', outcome, done);
    });
  }

  /**
   * A connection accepted on a carrier's own listener: admitted (pending when it handshakes),
   * then, with a handshake, gated, handshaken and authorized before the listener takes it.
   */
  listener(l: CarrierListener, c: Accepted): void {
    const run = l.handshake?.bind(l);
    if (run) this.#p.admission.admit('pending', c, () => void this.#listened(l, c, run), l.idle !== false);
    else this.#p.admission.admit('inbound', c, () => l.accept(c), l.idle !== false);
  }

  async #listened(
    l: CarrierListener,
    c: Accepted,
    run: NonNullable<CarrierListener['handshake']>,
  ): Promise<void> {
    const session = await handshake(this.#p, c, run);
    if (!session || session === NOT_TLS) return; // a listener's handshake is never asked to look

    const decision: InboundAuthorization = l.anonymous
      ? { allowed: true, reason: 'a listener that authenticates nobody' }
      : this.authorize(session.peer, session.identityError, l.authorization, { source: c.client.address });
    if (!decision.allowed && !l.answersDenied) {
      this.#p.reporter.report({
        direction: 'inbound',
        outcome: 'denied',
        code: decision.code ?? 'policy',
        reason: decision.reason,
        source: c.client.address,
        ...(session.peer ? { peer: session.peer } : {}),
      });
      return session.refuse();
    }
    // A refused peer handed over (its protocol answers it) is never counted as established.
    const { socket } = c;
    if (
      decision.allowed &&
      !this.#p.admission.established(socket, 'inbound', c.client.address, session.outer)
    )
      return session.refuse();
    l.accept(c, session, decision);
  }

  /**
   * What {@link InboundPath.serveStream} decides about a stream before any dial: the peer first,
   * then the authority (IP:port, owned by the workload, not a proxy port), then, with the data
   * plane's authorizer, this peer for this destination. Also asked for streams an engine decided
   * from its table: this decision stays the truth.
   */
  decideStream(s: StreamFacts): StreamVerdict {
    const info = { source: s.source, ...(s.peer ? { peer: s.peer } : {}) };
    const decision = this.authorize(s.peer, undefined, undefined, { source: s.source });
    // The peer is authorized first, before anything it asked for is looked at.
    if (!decision.allowed) return refusal(info, 'denied', decision.code ?? 'policy', decision.reason);
    if (!s.authority) return refusal(info, 'refused', 'authority', 'the authority is not IP:port', 400);
    const allowed = decideAuthority({
      authority: s.authority,
      arrivedOn: s.arrivedOn,
      workloadAddresses: this.#p.spec.addresses ?? [],
      proxyPorts: this.#p.proxyPorts(),
    });
    const where = { ...info, destination: formatEndpoint(s.authority) };
    if (allowed.kind === 'deny')
      return refusal(where, 'refused', allowed.code, allowed.reason, allowed.status);
    // Then, with the data plane's authorizer, this peer for this destination (L4 policies name ports).
    if (this.#p.inputs.authorizer) {
      const v = this.authorize(s.peer, undefined, undefined, { source: s.source, destination: s.authority });
      if (!v.allowed) {
        const named = v.policy ? { ...where, policy: v.policy } : where;
        return refusal(named, 'denied', v.code ?? 'policy', v.reason);
      }
    }
    const forwarded = s.forwardedFor ? { forwardedFor: s.forwardedFor } : {};
    return {
      allowed: true,
      destination: this.#p.spec.policy.inbound?.fixedDestination ?? s.authority,
      report: { ...where, ...forwarded },
    };
  }

  /** One tunnel a peer opened: authorize → authority → dial → relay → report. */
  async serveStream(s: InboundStream): Promise<void> {
    const verdict = this.decideStream(s);
    if (!verdict.allowed) {
      this.#p.reporter.report({ ...verdict.report, direction: 'inbound', outcome: verdict.outcome });
      const status = verdict.status ? { status: verdict.status } : {};
      return s.refuse({ outcome: verdict.outcome, code: verdict.code, ...status });
    }
    const { destination, report: full } = verdict;
    if (s.signal.aborted) return;
    let app: Socket;
    try {
      // From the TCP peer of the tunnel's connection, never a header: `forwardedFor` is only logged.
      app = await dialApp(this.#p, destination, s.source, s.signal);
    } catch (error) {
      if (s.signal.aborted) return;
      const reason = `connect to ${formatEndpoint(destination)} failed: ${(error as Error).message}`;
      return this.#refuse(s, full, 'failed', 'connect', reason);
    }
    if (s.signal.aborted) return void app.destroy();
    if (s.carry) {
      const outcome = await s.carry(app);
      if (outcome) this.#p.reporter.relayed('inbound', outcome, full);
      return;
    }
    this.#p.admission.track(app);
    const carried = await s.open(app);
    if (!carried || carried.destroyed) return void app.destroy();
    await relay(this.#p, 'inbound', carried, app, full);
  }

  #refuse(
    s: InboundStream,
    info: ReportInfo,
    outcome: 'denied' | 'refused' | 'failed',
    code: string,
    reason: string,
    status?: number,
  ): void {
    const event: ConnectionReport = { ...info, direction: 'inbound', outcome, code, reason };
    this.#p.reporter.report(event);
    s.refuse({ outcome, code, ...(status ? { status } : {}) });
  }
}

/** A refused stream's verdict: what is reported, and what the peer is answered. */
function refusal(
  info: ReportInfo,
  outcome: 'denied' | 'refused',
  code: string,
  reason: string,
  status?: number,
): Extract<StreamVerdict, { allowed: false }> {
  return { allowed: false, outcome, code, ...(status ? { status } : {}), report: { ...info, code, reason } };
}
