import { project } from '../vitest.shared.js';

export default project('tests', { testTimeout: 20_000 });
