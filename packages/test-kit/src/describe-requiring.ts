import { describe, it } from 'vitest';

/**
 * `describe` for tests that need what a machine may lack (root, a daemon, a tool), said by
 * `missing` (why they cannot run, or undefined when they can). Outside CI they are skipped with
 * that reason in the title; in CI (`CI` set) a missing prerequisite is one failing test, never a
 * silent skip.
 */
export function describeRequiring(missing: string | undefined, title: string, body: () => void): void {
  if (missing === undefined) {
    describe(title, body);
    return;
  }
  if (process.env.CI) {
    describe(title, () => {
      it('has what it needs to run', () => {
        throw new Error(`cannot run in CI: ${missing}`);
      });
    });
    return;
  }
  describe.skip(`${title} (skipped: ${missing})`, body);
}
