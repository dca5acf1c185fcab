import type { SocketOps } from '@switchyard/core';
import type { Limits, Timeouts } from './defaults.js';
import type { DestinationResolver } from './destination-resolver.js';
import type { OpenConnections } from './endpoint-picker.js';
import type { InboundAuthorizer } from './inbound-authorization.js';
import type { Logger } from './logger.js';
import type { DataPlaneMetrics } from './metrics.js';
import type { ServiceMetrics } from './service-metrics.js';
import type { Upstream } from './upstream.js';

/** What a workload shares with every other workload of its data plane (ztunnel's `ProxyInputs`). */
export interface WorkloadInputs {
  socketOps: SocketOps;
  upstream: Upstream;
  timeouts: Readonly<Timeouts>;
  limits: Readonly<Limits>;
  logger: Logger;
  metrics: DataPlaneMetrics;
  accessLog: boolean;
  accessLogRate: number;
  adminPort: number;
  /** Service resolution: which destinations are Services, the open connections per endpoint, the per-service metrics. */
  services?: { resolver: DestinationResolver; open: OpenConnections; metrics: ServiceMetrics };
  /** Decides inbound connections in place of the workloads' allow-lists (the agent's cluster policies). */
  authorizer?: InboundAuthorizer;
}
