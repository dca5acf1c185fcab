import { packageBuild } from '../../tsup.base.js';

export default packageBuild(['src/index.ts', 'src/memory/index.ts', 'src/testing/index.ts']);
