/**
 * `@switchyard/hbone/testing`: the suites every HBONE carrier (the JavaScript one, the native
 * engine's) is held to.
 *
 * @module
 */
export { describeHboneHostilePeer } from './hostile-peer-suite.js';
