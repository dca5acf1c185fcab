import { packageBuild } from '../../tsup.base.js';

export default packageBuild(['src/index.ts', 'src/carrier/index.ts', 'src/hbone/index.ts']);
