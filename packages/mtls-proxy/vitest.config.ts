import { project } from '../../vitest.shared.js';

export default project('mtls-proxy', { testTimeout: 30_000, hookTimeout: 30_000 });
