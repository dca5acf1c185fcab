import { project } from '../../vitest.shared.js';

export default project('cri', { testTimeout: 60_000, hookTimeout: 120_000 });
