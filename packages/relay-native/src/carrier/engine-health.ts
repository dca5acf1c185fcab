import type { CarrierContext } from '@switchyard/dataplane/carrier';
import type { ThreadStall } from '../engine-watchdog.js';
import type { RelayEngine } from '../relay-engine.js';

/**
 * Reports the engine's stalled threads for one workload: a log line when a thread stops turning
 * and when it turns again, a count of stalls, and a gauge of the threads stalled now. Returns
 * what stops reporting.
 */
export function reportEngineHealth(engine: RelayEngine, context: CarrierContext): () => void {
  const { labels, logger, metrics } = context;
  const onChange = ({ thread, stalled, sinceMs }: ThreadStall) => {
    metrics.engineThreadsStalled.set(labels, engine.stalledThreads.length);
    if (!stalled) {
      logger.info('engine thread turns again', { thread, stalledMs: sinceMs });
      return;
    }
    metrics.engineStalls.inc(labels);
    logger.error('engine thread stalled: its connections wait; not ready until it turns again', {
      thread,
      sinceMs,
    });
  };
  return engine.onStall(onChange);
}
