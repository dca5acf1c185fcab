// `pnpm bench:micro`: only the micro section of the benchmarks (`pnpm bench` prints it too).
import { microBenchmarks } from './micro.js';

for (const row of microBenchmarks())
  process.stdout.write(`${row.measure.padEnd(48)} ${row.ms.toFixed(0)} ms\n`);
