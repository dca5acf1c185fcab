import { project } from '../../vitest.shared.js';

export default project('dataplane', { testTimeout: 60_000, hookTimeout: 30_000 });
