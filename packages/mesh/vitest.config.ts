import { project } from '../../vitest.shared.js';

export default project('mesh', { testTimeout: 20_000 });
