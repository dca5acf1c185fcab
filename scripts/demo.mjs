// The README's demo: what Switchyard can do on this machine today, step by step.
// Each step runs the real `switchyard` binary and shows its output.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(repo, 'apps/cli/dist/bin.js');

function step(title, args, expectedStatus = 0) {
  console.log(`\n\x1b[1m▶ ${title}\x1b[0m\n  $ switchyard ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: repo, stdio: 'inherit' });
  if (result.status !== expectedStatus) {
    console.error(`demo: expected exit ${expectedStatus}, got ${result.status}`);
    process.exit(1);
  }
  console.log(`  (exit ${result.status})`);
}

step('Which capture drivers can work on this host, with a third-party plugin loaded', [
  'drivers',
  '--driver-module',
  './examples/driver-plugin',
]);
step('A sidecar policy, validated and normalized', [
  'policy',
  'validate',
  'examples/policies/sidecar.yaml',
  '--json',
]);
step(
  'A policy with three mistakes: every one named with its field path, exit 2',
  ['policy', 'validate', 'examples/policies/bad.json'],
  2,
);
console.log('\nDemo finished.');
