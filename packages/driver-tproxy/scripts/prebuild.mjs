// `prepack`: builds the native addon for linux-x64 and linux-arm64 into prebuilds/, where
// node-gyp-build finds it, so installing the package needs neither a compiler nor install
// scripts (pnpm 10 runs none by default). The other architecture is cross-compiled with
// Debian's gcc-<arch>-linux-gnu. Each build runs in a scratch copy of the sources, so the
// package's own build/ (which running tests load) is never touched.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const TOOLCHAINS = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };

function toolchain(triple) {
  return { CC: `${triple}-gcc`, CXX: `${triple}-g++`, LINK: `${triple}-g++`, AR: `${triple}-ar` };
}

for (const [arch, triple] of Object.entries(TOOLCHAINS)) {
  const scratch = mkdtempSync(join(tmpdir(), `swy-prebuild-${arch}-`));
  try {
    cpSync(join(root, 'binding.gyp'), join(scratch, 'binding.gyp'));
    cpSync(join(root, 'native'), join(scratch, 'native'), { recursive: true });
    execFileSync('node-gyp', ['rebuild', `--arch=${arch}`], {
      cwd: scratch,
      env: { ...process.env, ...(arch === process.arch ? {} : toolchain(triple)) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const dir = join(root, 'prebuilds', `linux-${arch}`);
    mkdirSync(dir, { recursive: true });
    // node-gyp-build reads the tags from the name: any Node with Node-API, glibc.
    copyFileSync(
      join(scratch, 'build', 'Release', 'switchyard_tproxy.node'),
      join(dir, 'node.napi.glibc.node'),
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
