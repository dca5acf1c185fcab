/**
 * What the repository's tests share, in one place (never published): the one gate for tests
 * that need something a machine may lack (root, a daemon, a tool) — skipped with the reason
 * locally, a failing test in CI — a free port, and running a program.
 *
 * @example
 * ```ts
 * import { describeRequiring, freePort, sh } from '@switchyard/test-kit';
 *
 * describeRequiring(process.getuid?.() === 0 ? undefined : 'it needs root', 'namespaces', () => {
 *   it('lists them', async () => {
 *     expect(sh('ip', 'netns', 'list')).toBeTypeOf('string');
 *     expect(await freePort()).toBeGreaterThan(0);
 *   });
 * });
 * ```
 *
 * @module
 */
export { describeRequiring } from './describe-requiring.js';
export { freePort } from './free-port.js';
export { repoRoot } from './repo-root.js';
export { type ShFailure, type ShOptions, sh, shWith } from './sh.js';
