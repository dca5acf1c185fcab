import type { Target } from '@switchyard/core';
import type { CertificateStore } from '@switchyard/mesh';
import type { WorkloadPlan } from '../plan/plan.js';
import type { CaptureUnit } from './capture-unit.js';

/** Where a workload stands. */
export type Phase = 'pending' | 'captured' | 'failed';

/** What the reconciler knows of one workload it serves or tries to. */
export interface WorkloadRecord {
  id: string;
  phase: Phase;
  plan?: WorkloadPlan;
  /** A capture unit's latest wanted state (metadata client), instead of a workload's plan. */
  unit?: CaptureUnit;
  /** The target a unit was last found at. */
  unitTarget?: Target;
  /** The plan the data plane serves now (JSON), to see when it changed. */
  servedKey?: string;
  store?: CertificateStore;
  error?: { code: string; message: string };
  /** Failures in a row. */
  attempts: number;
  retryAt?: number;
  retryTimer?: NodeJS.Timeout;
  /** When the phase last changed. */
  since: string;
}

/** A workload's line in `status`. */
export interface WorkloadReport {
  id: string;
  phase: Phase;
  target?: string;
  carrier?: string;
  spiffeId?: string;
  addresses?: string[];
  excludedPorts?: number[];
  listeners?: { role: string; address: string; port: number }[];
  active?: { inbound: number; outbound: number };
  error?: { code: string; message: string };
  /**
   * Failed with its capture rules in place: every connection to or from it is refused (nothing
   * serves it, so nothing leaves in plaintext) until it can be served.
   */
  heldClosed?: boolean;
  attempts: number;
  nextRetry?: string;
  since: string;
}
