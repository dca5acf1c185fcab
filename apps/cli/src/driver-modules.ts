import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  BUILTIN_DRIVERS,
  DriverRegistry,
  type DriverRegistryOptions,
  InputInvalidError,
  type RedirectionDriver,
} from '@switchyard/core';
import { resolve as resolveModule } from 'import-meta-resolve';

/**
 * Turns a `--driver-module` value (or `flag`'s, naming a `what` package) into a URL Node can
 * import: a package name (resolved from the current directory, as the user would expect), a path
 * to a package directory, or a path to a file. Node's own `import.meta.resolve` resolves only from
 * the importing module, hence the library.
 */
export async function resolveDriverModule(
  spec: string,
  cwd: string,
  flag = '--driver-module',
  what = 'driver',
): Promise<string> {
  const isPath = spec.startsWith('.') || isAbsolute(spec);
  if (!isPath) {
    try {
      return resolveModule(spec, pathToFileURL(join(cwd, 'package.json')).href);
    } catch (cause) {
      throw new InputInvalidError(
        `cannot find the ${what} package "${spec}" from ${cwd}; install it there (pnpm add ${spec}) or give its path`,
        { cause },
      );
    }
  }
  const path = resolve(cwd, spec);
  const info = await stat(path).catch((cause: unknown) => {
    throw new InputInvalidError(
      `${flag} ${spec}: nothing at ${path}; give a package directory, a file, or a package name`,
      { cause },
    );
  });
  if (!info.isDirectory()) return pathToFileURL(path).href;
  const manifestPath = join(path, 'package.json');
  let name: unknown;
  try {
    name = (JSON.parse(await readFile(manifestPath, 'utf8')) as { name?: unknown }).name;
  } catch (cause) {
    throw new InputInvalidError(
      `${flag} ${spec}: ${manifestPath} is missing or not JSON; a ${what} directory must be a package`,
      { cause },
    );
  }
  if (typeof name !== 'string') throw new InputInvalidError(`${flag} ${spec}: ${manifestPath} has no "name"`);
  try {
    // A package resolves its own name through its "exports": exactly what its users would import.
    return resolveModule(name, pathToFileURL(manifestPath).href);
  } catch (cause) {
    throw new InputInvalidError(
      `${flag} ${spec}: the package "${name}" does not export an entry point (is it built? run "pnpm build")`,
      { cause },
    );
  }
}

/** A registry that hands the user's `--driver-option`s to the driver a command creates. */
class CliDriverRegistry extends DriverRegistry {
  readonly #options: Readonly<Record<string, unknown>>;

  constructor(options: DriverRegistryOptions, driverOptions: Readonly<Record<string, unknown>>) {
    super(options);
    this.#options = driverOptions;
  }

  override create(name: string, options?: Record<string, unknown>): Promise<RedirectionDriver> {
    return super.create(name, { ...this.#options, ...options });
  }
}

/**
 * A registry with the built-in drivers plus every `--driver-module`, each loaded under the name
 * the user gave, so messages and `switchyard drivers` show what they typed. Drivers it creates
 * get `driverOptions` (from `--driver-option` and `--driver-config`).
 */
export async function registryWith(
  driverModules: readonly string[],
  cwd: string,
  driverOptions: Readonly<Record<string, unknown>> = {},
): Promise<DriverRegistry> {
  const urls = new Map<string, string>();
  for (const spec of driverModules) urls.set(spec, await resolveDriverModule(spec, cwd));
  const registry = new CliDriverRegistry(
    {
      builtins: BUILTIN_DRIVERS,
      importModule: (specifier) => import(urls.get(specifier) ?? specifier),
    },
    driverOptions,
  );
  for (const spec of driverModules) await registry.load(spec);
  return registry;
}
