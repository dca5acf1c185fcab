import { project } from '../../vitest.shared.js';

export default project('cni', { testTimeout: 60_000, hookTimeout: 120_000 });
