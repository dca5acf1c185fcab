import { packageBuild } from '../../tsup.base.js';

// The native relay engine is an optional dependency imported only for carrier mtls-native:
// bundled, it would look for its addon beside the agent's files instead of its own.
export default packageBuild(['src/index.ts', 'src/bin.ts'], {
  dts: { entry: 'src/index.ts' },
  external: ['vitest', '@switchyard/relay-native'],
});
