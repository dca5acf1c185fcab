// Builds the addons against the headers of the Node that runs this script: they declare the
// OpenSSL that Node carries, which the addons call. (node-gyp alone would take whatever nodedir
// the npm configuration names, e.g. an older system Node's headers with an older OpenSSL.)
//
// `--unless-prebuilt` (the package's install script) builds nothing when the prebuilt addon the
// package ships for this machine loads: installing from the registry needs no compiler. In this
// repository (src/ is here; the tarball ships none) it always builds: the tests load the local
// release and ASan builds.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Whether node-gyp-build finds a prebuilt addon for this machine that loads. */
function prebuiltLoads() {
  if (existsSync(join(import.meta.dirname, 'src'))) return false;
  if (!existsSync(join(import.meta.dirname, 'prebuilds'))) return false;
  try {
    createRequire(import.meta.url)('node-gyp-build')(import.meta.dirname);
    return true;
  } catch {
    return false;
  }
}

if (process.argv.includes('--unless-prebuilt') && prebuiltLoads()) process.exit(0);
const prefix = dirname(dirname(process.execPath));
const own = existsSync(join(prefix, 'include', 'node', 'openssl', 'ssl.h'));
const args = ['rebuild', ...(own ? [`--nodedir=${prefix}`] : [])];
const result = spawnSync('node-gyp', args, {
  stdio: 'inherit',
  shell: true,
  env: own ? { ...process.env, npm_config_nodedir: prefix } : process.env,
});
process.exit(result.status ?? 1);
