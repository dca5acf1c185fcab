import type { CarrierContext } from './carrier.js';
import { unmapAddress } from './listen.js';
import type { Direction } from './metrics.js';
import type { TlsFlood } from './tls-record-limits.js';

/**
 * What a carrier gives a TLS record guard (`TlsTerminatorOptions.onFlood`): counts each
 * connection reset for a TLS flood in `switchyard_tls_floods_total{reason}` and penalizes its
 * source (refused at accept for a while, as for any abuse: reconnecting earns it nothing). The
 * connection's own end is reported by whoever carries it; this adds why, at debug level only (an
 * attacker who reconnects must not flood the log).
 */
export function reportTlsFloods(
  context: Pick<CarrierContext, 'metrics' | 'labels' | 'logger' | 'penalize'>,
  direction: Direction,
): (kind: TlsFlood, detail: string, source: string | undefined) => void {
  return (kind, detail, source) => {
    context.metrics.tlsFloods.inc({ ...context.labels, direction, reason: kind });
    const penaltyMs = source ? context.penalize(unmapAddress(source)) : 0;
    context.logger.debug('TLS flood: connection reset', {
      direction,
      reason: kind,
      detail,
      source,
      penaltyMs,
    });
  };
}
