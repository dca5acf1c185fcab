// Builds the addons against the headers of the Node that runs this script: they declare the
// OpenSSL that Node carries, which the addons call. (node-gyp alone would take whatever nodedir
// the npm configuration names, e.g. an older system Node's headers with an older OpenSSL.)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const prefix = dirname(dirname(process.execPath));
const own = existsSync(join(prefix, 'include', 'node', 'openssl', 'ssl.h'));
const args = ['rebuild', ...(own ? [`--nodedir=${prefix}`] : [])];
const result = spawnSync('node-gyp', args, {
  stdio: 'inherit',
  shell: true,
  env: own ? { ...process.env, npm_config_nodedir: prefix } : process.env,
});
process.exit(result.status ?? 1);
