import { Counter, Gauge, type Registry } from 'prom-client';
import type { MetadataProxyStatus, RelayOutcome } from './metadata-status.js';

/**
 * Registers metadata proxying's series in `registry` (the agent's one `/metrics`):
 * `switchyard_agent_metadata_connections_total{outcome}` (counted per connection, no log line),
 * `switchyard_agent_metadata_clients{phase}` and `switchyard_agent_metadata_proxy` (1 while a
 * proxy container serves), the last two read from `status` when scraped. Returns the counter's
 * increment.
 */
export function registerMetadataMetrics(
  registry: Registry,
  status: () => MetadataProxyStatus,
): (outcome: RelayOutcome) => void {
  const registers = [registry];
  const connections = new Counter({
    name: 'switchyard_agent_metadata_connections_total',
    help: 'Captured metadata connections, by outcome: relayed to the proxy, refused (no proxy, fail closed), failed (proxy unreachable)',
    labelNames: ['outcome'],
    registers,
  });
  new Gauge({
    name: 'switchyard_agent_metadata_clients',
    help: 'Metadata client containers, by phase',
    labelNames: ['phase'],
    registers,
    collect() {
      this.reset();
      const { clients } = status();
      for (const phase of ['captured', 'direct', 'failed'] as const)
        this.set({ phase }, clients.filter((c) => c.phase === phase).length);
    },
  });
  new Gauge({
    name: 'switchyard_agent_metadata_proxy',
    help: '1 while a metadata proxy container serves the clients',
    registers,
    collect() {
      this.set(status().proxy ? 1 : 0);
    },
  });
  return (outcome) => connections.inc({ outcome });
}
