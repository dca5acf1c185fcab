/**
 * `@switchyard/hbone/testing`: the suites every HBONE carrier (the JavaScript one, the native
 * engine's) is held to.
 *
 * @module
 */
export { buildGoPeer, type GoPeer, INTEROP_DIR } from './go-peer.js';
export { describeHboneHostilePeer } from './hostile-peer-suite.js';
