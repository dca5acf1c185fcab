import { cidrMatcher } from '@switchyard/core';
import type { Accepted } from './carrier.js';
import { decideOutbound, type Endpoint } from './decide.js';
import type { DestinationResolver, ServiceDestination, ServiceRoute } from './destination-resolver.js';
import { pickEndpoints } from './endpoint-picker.js';
import { unmapAddress } from './listen.js';
import { relayPlain } from './relay.js';
import { decideService } from './service-decision.js';
import { formatEndpoint } from './upstream.js';
import type { WorkloadParts } from './workload-parts.js';

/** A connection refused because the resolver could not answer (stable `code`s). */
interface ResolverRefusal {
  kind: 'refuse';
  code: 'resolver-failed' | 'services-not-synced';
  reason: string;
}

/**
 * The outbound stage of one workload: a captured connection is decided (loop, mesh, outside it,
 * a Service and which endpoint) and handed to the carrier, relayed plain, or refused.
 */
export class OutboundPath {
  readonly #p: WorkloadParts;
  readonly #inMesh: (address: string) => boolean;

  constructor(parts: WorkloadParts) {
    this.#p = parts;
    this.#inMesh = cidrMatcher(parts.spec.policy.outbound?.meshCidrs ?? []);
  }

  /** An admitted outbound connection. */
  async handle(c: Accepted): Promise<void> {
    const { spec, reporter } = this.#p;
    const outbound = spec.policy.outbound!;
    const destination = { address: c.originalDestination.address, port: c.originalDestination.port };
    const decision = decideOutbound({
      destination,
      inMesh: this.#inMesh(destination.address),
      passthroughOutsideMesh: outbound.passthroughOutsideMesh === true,
      proxyPorts: this.#p.proxyPorts(),
      // The address the connection arrived on is the workload's own, listed or not: a remote
      // peer reaching 15001 directly must not make the proxy dial itself.
      ownAddresses: [...(spec.addresses ?? []), unmapAddress(c.socket.localAddress ?? '')],
    });
    const info = { source: c.client.address, destination: formatEndpoint(destination) };
    // A Service address is outside the mesh CIDRs: it goes to its endpoints (a loop is still refused).
    const service =
      (decision.kind === 'deny' && decision.code === 'loop') || outbound.resolveServices === false
        ? undefined
        : this.#resolve(destination);
    if (service?.kind === 'service') return this.#service(c, destination, service);
    // Not known to be a Service or not: refused, never decided by the address alone (fail closed).
    if (service?.kind === 'refuse') {
      const { code, reason } = service;
      reporter.report({ direction: 'outbound', outcome: 'refused', code, reason, ...info });
      return void c.socket.destroy();
    }
    if (decision.kind === 'deny') {
      reporter.report({
        direction: 'outbound',
        outcome: 'refused',
        code: decision.code,
        reason: decision.reason,
        ...info,
      });
      return void c.socket.destroy();
    }
    if (decision.kind === 'passthrough')
      return relayPlain(this.#p, 'outbound', c, destination, decision.reason);
    await this.#p.carrier().outbound(c, destination);
  }

  /** The resolver's answer, or why the connection is refused without one (hot path: never throw). */
  #resolve(destination: Endpoint): ServiceDestination | ResolverRefusal | undefined {
    let answer: ReturnType<DestinationResolver['resolve']>;
    try {
      answer = this.#p.inputs.services?.resolver.resolve(destination);
    } catch (error) {
      this.#p.log.debug('destination resolver failed', { reason: (error as Error).message });
      return { kind: 'refuse', code: 'resolver-failed', reason: 'the destination resolver failed' };
    }
    if (answer?.kind !== 'not-synced') return answer;
    return {
      kind: 'refuse',
      code: 'services-not-synced',
      reason: 'Services are not synced yet: whether the destination is one is unknown',
    };
  }

  /** A connection to a Service address: one of its endpoints, chosen by power of two choices. */
  async #service(c: Accepted, destination: Endpoint, s: ServiceDestination): Promise<void> {
    const { open, metrics } = this.#p.inputs.services!;
    metrics.requests.inc({ service: s.service });
    const decision = decideService({
      service: s.service,
      endpoints: s.endpoints,
      passthroughOutsideMesh: this.#p.spec.policy.outbound?.passthroughOutsideMesh === true,
      pick: (candidates) => pickEndpoints(candidates, (e) => open.load(e)),
    });
    const info = { source: c.client.address, destination: formatEndpoint(destination), service: s.service };
    if (decision.kind === 'deny') {
      this.#p.reporter.report({
        ...info,
        direction: 'outbound',
        outcome: 'refused',
        code: decision.code,
        reason: decision.reason,
      });
      return void c.socket.destroy();
    }
    if (decision.kind === 'passthrough') {
      const release = open.hold(decision.endpoint);
      c.socket.once('close', release);
      return relayPlain(this.#p, 'outbound', c, decision.endpoint, decision.reason, s.service);
    }
    const carrier = this.#p.carrier();
    if (!carrier.routesServices) {
      const chosen = decision.attempts[0] as Endpoint;
      const release = open.hold(chosen);
      c.socket.once('close', release);
      return carrier.outbound(c, { address: chosen.address, port: chosen.port });
    }
    const route: ServiceRoute = {
      service: s.service,
      attempts: decision.attempts,
      hold: (e) => open.hold(e),
      failed: (e) => open.failed(e),
      // Counted, not logged: a hot path logs no line per connection.
      retried: () => metrics.endpointRetries.inc({ service: s.service }),
    };
    await carrier.outbound(c, destination, route);
  }
}
