import type { CarrierChoice } from '../carriers/choose-carrier.js';
import type { MetadataProxyStatus } from '../metadata/metadata-status.js';
import type { WorkloadReport } from '../reconcile/workload-record.js';
import type { ServiceReport } from '../services/service-report.js';

/** What `/status` and `switchyard-agent status` show. */
export interface AgentStatus {
  node: string;
  pid: number;
  /** The agent's version (`@switchyard/agent`). */
  version: string;
  source: string;
  driver: string;
  /** The carrier workloads run on unless they name one, and why the default fell back (absent while starting). */
  carrier?: CarrierChoice;
  ready: boolean;
  /** While the agent starts: what it waits for (the first list of its source, the Kubernetes API…). */
  starting?: string;
  /**
   * The last update of the source that was rejected (an edit of the workload file that does not
   * parse), while the workloads it would have changed are kept as they were; gone after the next
   * good update.
   */
  sourceProblem?: { reason: string; since: string };
  workloads: WorkloadReport[];
  /** Asked with `?service=NS/NAME`: that Service, null when unknown; absent when Services are not watched. */
  service?: ServiceReport | null;
  /** Metadata proxying for Docker containers, when configured. */
  metadataProxy?: MetadataProxyStatus;
}
