/**
 * `@switchyard/mesh/testing` — a throwaway PKI (two trust domains, named workload certificates)
 * for tests of anything that speaks mTLS with SPIFFE identities.
 *
 * @module
 */
export { issueCrafted } from './crafted.js';
export { createTestPki, type TestPki } from './pki.js';
