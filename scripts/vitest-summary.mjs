// Prints the closing line CI reads, "N passed, N failed, N skipped", from vitest's JSON report.
// A missing report (the run stopped before the tests) counts as no test run.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.reports/vitest.json';
if (!existsSync(file)) {
  console.log('0 passed, 0 failed');
  process.exit(0);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
