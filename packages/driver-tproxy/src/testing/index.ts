/**
 * `@switchyard/driver-tproxy/testing` — helpers for tests that need real network namespaces:
 * a two-host lab joined by a veth pair, a `describe` that skips without root outside CI and
 * fails in CI, and small socket helpers. Used by this package's tests and by the CLI's.
 *
 * @example
 * ```ts
 * import { createLab, describePrivileged } from '@switchyard/driver-tproxy/testing';
 * describePrivileged('capture', () => {
 *   it('works', () => { const lab = createLab(); try { … } finally { lab.destroy(); } });
 * });
 * ```
 *
 * @module
 */
export { createLab, describePrivileged, type Lab, privilegedUnavailable } from './netns-lab.js';
export { closeAll, echo, exchange, nextConnection } from './sockets.js';
