// `prepack` of a package with a Node-API addon: builds one gyp target for linux-x64 and
// linux-arm64 into the package's prebuilds/, where node-gyp-build finds it, so installing the
// package needs neither a compiler nor install scripts (pnpm 10 runs none by default). The other
// architecture is cross-compiled with Debian's gcc-<arch>-linux-gnu. Each build runs in a scratch
// copy of binding.gyp and native/ holding only that target, so the package's own build/ (which
// running tests load) is never touched.
//
//   node ../../scripts/prebuild-addon.mjs TARGET [--node-headers] [--arches=x64,arm64]
//
// --arches names the architectures to build (default both): an addon that links a static library
// only the build machine's architecture has (relay-native's nghttp2) ships that one prebuild, and
// elsewhere compiles at install.
// --node-headers builds against the headers of the Node that runs this script (an addon that
// calls the OpenSSL Node carries needs Node's own openssl/ headers, with every architecture's
// configuration in them), not the nodedir npm's configuration may name.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const [target, ...flags] = process.argv.slice(2);
if (!target) throw new Error('usage: prebuild-addon.mjs TARGET [--node-headers]');
const root = process.cwd();
const TOOLCHAINS = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };
const nodedir = flags.includes('--node-headers') ? [`--nodedir=${dirname(dirname(process.execPath))}`] : [];
const archFlag = flags.find((f) => f.startsWith('--arches='));
const arches = archFlag ? archFlag.slice('--arches='.length).split(',') : Object.keys(TOOLCHAINS);
for (const arch of arches)
  if (!(arch in TOOLCHAINS)) throw new Error(`--arches: unknown architecture "${arch}" (known: x64, arm64)`);

function toolchain(triple) {
  return { CC: `${triple}-gcc`, CXX: `${triple}-g++`, LINK: `${triple}-g++`, AR: `${triple}-ar` };
}

/** binding.gyp with only `target` (gyp files here are JSON). */
function onlyTarget(gyp) {
  const parsed = JSON.parse(gyp);
  parsed.targets = parsed.targets.filter((t) => t.target_name === target);
  if (parsed.targets.length !== 1) throw new Error(`binding.gyp has no target named ${target}`);
  return JSON.stringify(parsed, null, 2);
}

for (const [arch, triple] of Object.entries(TOOLCHAINS).filter(([a]) => arches.includes(a))) {
  const scratch = mkdtempSync(join(tmpdir(), `swy-prebuild-${arch}-`));
  try {
    writeFileSync(join(scratch, 'binding.gyp'), onlyTarget(readFileSync(join(root, 'binding.gyp'), 'utf8')));
    cpSync(join(root, 'native'), join(scratch, 'native'), { recursive: true });
    execFileSync('node-gyp', ['rebuild', `--arch=${arch}`, ...nodedir], {
      cwd: scratch,
      env: { ...process.env, ...(arch === process.arch ? {} : toolchain(triple)) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const dir = join(root, 'prebuilds', `linux-${arch}`);
    mkdirSync(dir, { recursive: true });
    // node-gyp-build reads the tags from the name: any Node with Node-API, glibc.
    copyFileSync(join(scratch, 'build', 'Release', `${target}.node`), join(dir, 'node.napi.glibc.node'));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
