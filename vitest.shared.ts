import { defaultServerConditions } from 'vite';
import { defineProject, type TestProjectInlineConfiguration } from 'vitest/config';

// Tests import workspace packages from their TypeScript sources (the "@switchyard/source" export
// condition), so a test never runs against a stale build.
const conditions = ['@switchyard/source', ...defaultServerConditions];

/**
 * `expect.poll` waits this long by default: a change that comes from an event (a watch, a file
 * change, a timer) may take seconds on a loaded 2-core machine, and a test must not depend on an
 * idle one. It is no latency claim: a passing poll returns as soon as the check holds, and
 * benchmarks measure latency.
 */
const POLL = { timeout: 20_000, interval: 50 };

/** A workspace package's vitest project: sources resolved directly, tests beside the code. */
export function project(
  name: string,
  test: Omit<NonNullable<TestProjectInlineConfiguration['test']>, 'name'> = {},
) {
  return defineProject({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@switchyard/source'] } },
    test: { name, include: ['src/**/*.test.ts'], expect: { poll: POLL }, ...test },
  });
}
