import type { Logger } from '@switchyard/dataplane';
import type { MetadataProxy } from '../metadata/metadata-proxy.js';
import type { Reconciler } from '../reconcile/reconciler.js';
import type { WorkloadSource } from '../sources/workload.js';

/** What the runtime's requests act on: the source says who a workload is, the reconciler captures it. */
export interface RuntimeInputs {
  source: WorkloadSource;
  reconciler: Reconciler;
  logger: Logger;
  /** Metadata proxying, when configured: its clients are captured before they start too. */
  metadata?: MetadataProxy;
}

/** A JSON answer with status 200. */
export const ok = (body: string) => ({ status: 200, body, contentType: 'application/json' });
