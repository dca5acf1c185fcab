import { project } from '../../vitest.shared.js';

export default project('hbone', { testTimeout: 30_000, hookTimeout: 30_000 });
