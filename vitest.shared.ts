import { defaultServerConditions } from 'vite';
import { defineProject, type TestProjectInlineConfiguration } from 'vitest/config';

// Tests import workspace packages from their TypeScript sources (the "@switchyard/source" export
// condition), so a test never runs against a stale build.
const conditions = ['@switchyard/source', ...defaultServerConditions];

/** A workspace package's vitest project: sources resolved directly, tests beside the code. */
export function project(
  name: string,
  test: Omit<NonNullable<TestProjectInlineConfiguration['test']>, 'name'> = {},
) {
  return defineProject({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@switchyard/source'] } },
    test: { name, include: ['src/**/*.test.ts'], ...test },
  });
}
