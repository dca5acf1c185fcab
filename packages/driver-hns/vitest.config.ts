import { project } from '../../vitest.shared.js';

export default project('driver-hns', { testTimeout: 30_000, hookTimeout: 60_000 });
