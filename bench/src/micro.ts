// Measurements of single functions, separate from the traffic scenarios.
// Today: normalising a policy whose outbound.excludeCidrs has 1,000 to 100,000 blocks
// (MAX_LIST_ENTRIES), which was quadratic before (4,000 blocks took 132 s).
import { MAX_LIST_ENTRIES, validatePolicy } from '@switchyard/core';

/** `count` distinct /32 blocks plus a /16 covering the first 256, so the covered-block pass has work. */
function excludedCidrs(count: number): string[] {
  const blocks = Array.from(
    { length: count },
    (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`,
  );
  blocks[0] = '10.0.0.0/16';
  return blocks;
}

/** One row of the micro section: what was measured and how long it took. */
export interface MicroResult {
  measure: string;
  ms: number;
}

/** Runs every micro measurement once (after one warm-up run) and returns the rows. */
export function microBenchmarks(): MicroResult[] {
  const rows: MicroResult[] = [];
  for (const count of [1_000, 10_000, MAX_LIST_ENTRIES]) {
    const policy = { outbound: { excludeCidrs: excludedCidrs(count) } };
    validatePolicy(policy);
    const started = performance.now();
    const result = validatePolicy(policy);
    const ms = performance.now() - started;
    if (!result.ok) throw new Error(`the micro benchmark's policy is invalid: ${result.issues[0]?.message}`);
    rows.push({ measure: `validatePolicy, ${count.toLocaleString('en')} excluded CIDRs`, ms });
  }
  return rows;
}
