import type { CarrierContext } from './carrier.js';
import type { Direction } from './metrics.js';
import type { TlsFlood } from './tls-record-limits.js';

/**
 * What a carrier gives a TLS record guard (`TlsTerminatorOptions.onFlood`): counts each
 * connection reset for a TLS flood in `switchyard_tls_floods_total{reason}`. The connection's own
 * end is reported by whoever carries it; this adds why, at debug level only (an attacker who
 * reconnects must not flood the log).
 */
export function reportTlsFloods(
  context: Pick<CarrierContext, 'metrics' | 'labels' | 'logger'>,
  direction: Direction,
): (kind: TlsFlood, detail: string) => void {
  return (kind, detail) => {
    context.metrics.tlsFloods.inc({ ...context.labels, direction, reason: kind });
    context.logger.debug('TLS flood: connection reset', { direction, reason: kind, detail });
  };
}
