import type { Admission } from './admission.js';
import type { Carrier } from './carrier.js';
import type { ConnectionReporter } from './connection-report.js';
import type { Logger } from './logger.js';
import type { WorkloadInputs } from './workload-inputs.js';
import type { WorkloadSpec } from './workload-spec.js';

/**
 * What the stages of one workload share (accept, admit, handshake, authorize, dial, relay,
 * report): the {@link Workload} builds it once and each stage file takes it.
 */
export interface WorkloadParts {
  spec: WorkloadSpec;
  inputs: WorkloadInputs;
  log: Logger;
  admission: Admission;
  reporter: ConnectionReporter;
  /** The workload's carrier (created at start). */
  carrier(): Carrier;
  /** The proxy's own ports on this workload (see {@link Workload.proxyPorts}). */
  proxyPorts(): readonly number[];
}
