import type { AnonymousCarrierContext } from './carrier.js';
import { compileInboundCheck } from './inbound-admission.js';
import type { InboundPath } from './inbound-path.js';
import { relay } from './relay.js';
import { compileStreamCheck } from './stream-admission.js';
import type { WorkloadParts } from './workload-parts.js';

/**
 * The context a workload gives its carrier: the shared inputs, and the few entries back into the
 * data plane a carrier needs (report, outbound failures, one per-stream entry, track, replace,
 * relay). Everything else about a connection (admission, the handshake gate, authorization,
 * dialling the app) the data plane does itself. The workload's identity is added for a mesh carrier.
 */
export function carrierContext(
  parts: WorkloadParts,
  inbound: InboundPath,
  draining: () => boolean,
): AnonymousCarrierContext {
  const { spec, inputs, reporter, admission } = parts;
  return {
    workload: {
      id: spec.id,
      target: spec.target,
      policy: spec.policy,
      addresses: spec.addresses ?? [],
    },
    upstream: inputs.upstream,
    timeouts: inputs.timeouts,
    limits: inputs.limits,
    logger: parts.log,
    metrics: inputs.metrics,
    labels: { workload: spec.id, carrier: spec.carrier.name },
    report: (event) => reporter.report(event),
    relayed: (direction, outcome, info) => reporter.relayed(direction, outcome, info),
    outboundFailed: (failure) => reporter.outboundFailed(failure),
    serveStream: (stream) => inbound.serveStream(stream),
    decideStream: (stream) => inbound.decideStream(stream),
    track: (socket, outer) => admission.track(socket, outer),
    penalize: (source) => admission.penalize(source),
    replace: (connection, standIn) => admission.replace(connection, standIn),
    relay: (direction, client, server, info) => relay(parts, direction, client, server, info),
    compileInbound: () => compileInboundCheck(parts),
    compileStreams: () => compileStreamCheck(parts),
    get draining() {
      return draining();
    },
  };
}
