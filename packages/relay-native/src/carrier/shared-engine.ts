import {
  type Carrier,
  type CarrierContext,
  type CarrierFactory,
  TLS_RECORD_LIMITS,
} from '@switchyard/dataplane/carrier';
import { createRelayEngine, type RelayEngine } from '../relay-engine.js';

/**
 * A factory of engine carriers: the given engine, or one started on first use with the data
 * plane's timeouts and TLS record limits, and shared by the factory's workloads, closed when the last one's carrier
 * calls `release`.
 */
export function engineCarrierFactory(
  name: string,
  given: RelayEngine | undefined,
  make: (context: CarrierContext, engine: RelayEngine, release: () => void) => Carrier,
): CarrierFactory {
  let engine = given;
  let users = 0;
  const release = () => {
    if (--users === 0 && !given) {
      engine?.close();
      engine = undefined;
    }
  };
  return {
    name,
    create(context) {
      engine ??= createRelayEngine({
        handshakeTimeoutMs: context.timeouts.handshake,
        idleTimeoutMs: context.timeouts.idle,
        tlsLimits: TLS_RECORD_LIMITS,
      });
      users++;
      return make(context, engine, release);
    },
  };
}
