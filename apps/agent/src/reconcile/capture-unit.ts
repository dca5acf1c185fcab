import type { RedirectionPolicy, Target } from '@switchyard/core';
import type { CarrierFactory, WorkloadPolicy } from '@switchyard/dataplane';

/** How a {@link CaptureUnit} is served: a workload of the data plane. */
export interface CaptureServe {
  /** The data plane workload's id. */
  id: string;
  carrier: CarrierFactory;
  policy: WorkloadPolicy;
  /**
   * One workload for every unit that names it, on the host (Windows, where HNS hands captures to
   * the host's listener); otherwise the workload listens inside the unit's own target.
   */
  shared?: boolean;
}

/**
 * A capture the reconciler keeps besides the source's workloads (a metadata client): capture
 * rules on a target and a data plane workload serving them, applied, journaled, retried with
 * backoff and removed like a workload's. Units of one group share their policy id, which marks
 * their journal entries.
 */
export interface CaptureUnit {
  /** Its key in the reconciler and the journal (never a workload's id: include a `:`). */
  id: string;
  /** What the unit's network is (a change means reconciling it again): the target is found from it. */
  network: string;
  /** Found again at every attempt (a restarted container may have a new network). */
  target(): Promise<Target>;
  /** The capture rules; `id` names the group. */
  policy: RedirectionPolicy & { id: string };
  serve: CaptureServe;
}

/** Where a unit stands, for its owner's status. */
export interface CaptureReport {
  phase: 'pending' | 'captured' | 'failed';
  target?: Target;
  /** The data plane workload serving it once served. */
  served?: string;
  error?: string;
  attempts: number;
}
