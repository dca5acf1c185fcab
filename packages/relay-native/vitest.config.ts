import { project } from '../../vitest.shared.js';

export default project('relay-native', { testTimeout: 60_000, hookTimeout: 30_000 });
