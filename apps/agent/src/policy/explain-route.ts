import { InputInvalidError } from '@switchyard/core';
import type { Explanation } from './explain.js';

/**
 * The admin endpoint `/explain?from=…&to=…`: the decision as JSON; 400 for bad input; 503 while
 * the agent starts, or when it does not enforce Istio policies.
 */
export function explainRoute(
  explain: ((from: string, to: string) => Explanation) | undefined,
  query: URLSearchParams,
): { status: number; body: unknown } {
  const from = query.get('from');
  const to = query.get('to');
  if (!from || !to)
    return {
      status: 400,
      body: { error: 'give from=NAMESPACE/POD|ADDRESS and to=NAMESPACE/POD:PORT|ADDRESS:PORT' },
    };
  if (!explain) return { status: 503, body: { error: 'the agent is starting' } };
  try {
    return { status: 200, body: explain(from, to) };
  } catch (error) {
    return {
      status: error instanceof InputInvalidError ? 400 : 503,
      body: { error: (error as Error).message },
    };
  }
}
