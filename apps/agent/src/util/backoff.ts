/**
 * The delay before retry number `attempt` (1-based): doubling from `initialMs` up to `maxMs`,
 * with up to 20% jitter so workloads that failed together do not retry in lockstep.
 */
export function backoffDelay(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random = Math.random,
): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - 0.2 * random()));
}
