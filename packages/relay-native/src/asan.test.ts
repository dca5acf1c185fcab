// Runs this package's whole suite again against the AddressSanitizer build of the addon. Node is
// not built with ASan, so the runtime has to come first: LD_PRELOAD of gcc's libasan, with leak
// detection off (Node itself does not free everything at exit).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ADDON_BUILD_ENV } from './defaults.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const asanAddon = fileURLToPath(new URL('../build/Release/switchyard_relay_asan.node', import.meta.url));
const inside = process.env[ADDON_BUILD_ENV] === 'asan';

function libasan(): string | undefined {
  try {
    const path = execFileSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
    return path.startsWith('/') && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

const runtime = libasan();
const why = !runtime
  ? "gcc's libasan is not installed (apt-get install gcc)"
  : !existsSync(asanAddon)
    ? 'the ASan build of the addon is missing (pnpm --filter @switchyard/relay-native build:native)'
    : undefined;
const inCi = process.env.CI === 'true';

describe.skipIf(inside || (why !== undefined && !inCi))(
  `the suite under AddressSanitizer${why ? ` (${why})` : ''}`,
  () => {
    it('passes with the ASan build of the engine', () => {
      if (why) throw new Error(why);
      const child = spawnSync(
        process.execPath,
        [`${root}node_modules/vitest/vitest.mjs`, 'run', '--project', 'relay-native', '--reporter=dot'],
        {
          cwd: root,
          encoding: 'utf8',
          timeout: 540_000,
          env: {
            ...process.env,
            LD_PRELOAD: runtime,
            ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=0:halt_on_error=1',
            [ADDON_BUILD_ENV]: 'asan',
          },
        },
      );
      const output = `${child.stdout}\n${child.stderr}`;
      expect(output).not.toContain('ERROR: AddressSanitizer');
      expect(child.status, output.slice(-4000)).toBe(0);
    }, 600_000);
  },
);
