import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputInvalidError } from '@switchyard/core';
import { resolve as resolveModule } from 'import-meta-resolve';

/**
 * Where a `carrierModules` entry is: a path (absolute, or relative to the config file's
 * directory), or a package name resolved from that directory — the project the config lives in —
 * and then from the agent's own location (a package installed beside the agent). Node's own
 * `import.meta.resolve` resolves only from the importing module, hence the library.
 *
 * @throws InputInvalidError when no package of that name is found from either place.
 */
export function resolveCarrierModule(spec: string, configDir: string): string {
  if (spec.startsWith('.') || isAbsolute(spec)) return pathToFileURL(resolve(configDir, spec)).href;
  for (const from of [pathToFileURL(join(configDir, 'package.json')).href, import.meta.url]) {
    try {
      return resolveModule(spec, from);
    } catch {
      // not from here; try the next place
    }
  }
  throw new InputInvalidError(
    `cannot find the carrier package "${spec}" from ${configDir} or beside the agent; install it there (npm install ${spec}) or give its path`,
  );
}
