import { project } from '../../vitest.shared.js';

export default project('agent', { testTimeout: 60_000, hookTimeout: 60_000 });
