import { Counter, Gauge, type Registry } from 'prom-client';

/** The agent's own series, beside the data plane's in the same registry (one `/metrics`). */
export interface AgentMetrics {
  /** Workloads by phase: `captured`, `failed`, `pending`. */
  workloads: Gauge<'phase'>;
  /** 1 while a workload is captured and served, 0 while it is failed or pending. */
  captured: Gauge<'workload'>;
  /** Reconcile steps by action: `applied`, `kept`, `removed`, `served`. */
  actions: Counter<'action'>;
  /** Failed reconciles of a workload, by the error code. */
  failures: Counter<'workload' | 'code'>;
  /** 1 once the first snapshot is reconciled. */
  ready: Gauge;
}

/** Registers the agent's metrics in `registry` (the data plane's). */
export function createAgentMetrics(registry: Registry): AgentMetrics {
  const registers = [registry];
  return {
    workloads: new Gauge({
      name: 'switchyard_agent_workloads',
      help: 'Workloads by phase',
      labelNames: ['phase'],
      registers,
    }),
    captured: new Gauge({
      name: 'switchyard_agent_workload_captured',
      help: '1 while the workload is captured and served',
      labelNames: ['workload'],
      registers,
    }),
    actions: new Counter({
      name: 'switchyard_agent_reconcile_actions_total',
      help: 'Reconcile steps, by action',
      labelNames: ['action'],
      registers,
    }),
    failures: new Counter({
      name: 'switchyard_agent_reconcile_failures_total',
      help: 'Failed reconciles, by workload and error code',
      labelNames: ['workload', 'code'],
      registers,
    }),
    ready: new Gauge({
      name: 'switchyard_agent_ready',
      help: '1 once the first snapshot is reconciled',
      registers,
    }),
  };
}
