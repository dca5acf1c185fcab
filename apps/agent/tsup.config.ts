import { packageBuild } from '../../tsup.base.js';

export default packageBuild(['src/index.ts', 'src/bin.ts'], { dts: { entry: 'src/index.ts' } });
