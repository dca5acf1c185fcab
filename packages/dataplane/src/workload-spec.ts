import type { Target } from '@switchyard/core';
import type { CertificateStore } from '@switchyard/mesh';
import type { CarrierFactory } from './carrier.js';
import type { WorkloadPolicy } from './workload-policy.js';

/** One workload: `DataPlane.addWorkload`'s argument. */
export interface WorkloadSpec {
  /** Unique in the data plane, e.g. `web/api-7d9f`. */
  id: string;
  /** Where its network lives; listeners and dials open there. Default: the process's own network. */
  target?: Target;
  /** Its certificate, rotated from files. Required unless the carrier is `anonymous`. */
  identity?: CertificateStore;
  policy: WorkloadPolicy;
  carrier: CarrierFactory;
  /** Addresses the workload owns (pod IPs); the address a connection arrives on always counts. */
  addresses?: string[];
}
