import { Counter, type Registry } from 'prom-client';

/** Per destination Service (`service` = `namespace/name`): what clients asked and what failed. */
export interface ServiceMetrics {
  /** Connections to the Service's addresses. */
  requests: Counter<'service'>;
  /** Connections to it that were refused, denied or failed, by reason. */
  failures: Counter<'service' | 'reason'>;
  /** Endpoints given up on and retried on another. */
  endpointRetries: Counter<'service'>;
}

/**
 * The per-service metrics in `registry`; data planes sharing one registry share these series
 * rather than registering them twice.
 */
export function createServiceMetrics(registry: Registry, prefix = 'switchyard'): ServiceMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
    (registry.getSingleMetric(`${prefix}_${name}`) as Counter<L> | undefined) ??
    new Counter<L>({ name: `${prefix}_${name}`, help, labelNames, registers: [registry] });
  return {
    requests: counter('service_requests_total', 'Connections to a Service address', ['service']),
    failures: counter('service_failures_total', 'Connections to a Service that were refused or failed', [
      'service',
      'reason',
    ]),
    endpointRetries: counter(
      'service_endpoint_retries_total',
      'Service endpoints that refused or timed out and were retried on another',
      ['service'],
    ),
  };
}
