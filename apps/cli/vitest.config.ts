import { project } from '../../vitest.shared.js';

export default project('cli', { testTimeout: 20_000 });
