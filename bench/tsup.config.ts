import { packageBuild } from '../tsup.base.js';

export default packageBuild(
  ['src/run.ts', 'src/micro-run.ts', 'src/sidecar-process.ts', 'src/sink-process.ts', 'src/hbone-process.ts'],
  { dts: false },
);
