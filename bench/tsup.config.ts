import { packageBuild } from '../tsup.base.js';

export default packageBuild(
  [
    'src/run.ts',
    'src/micro-run.ts',
    'src/sidecar-process.ts',
    'src/sink-process.ts',
    'src/hbone-process.ts',
    'src/native-process.ts',
    'src/dataplane-process.ts',
    'src/agent-bench.ts',
  ],
  { dts: false },
);
