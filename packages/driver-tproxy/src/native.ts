import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { UnsupportedPlatformError } from '@switchyard/core';

/** node-gyp-build's one function (the package is CommonJS and ships no types). */
type NodeGypBuild = (packageRoot: string) => unknown;

/** The functions of the native addon (`native/transparent.c`). Addresses are IP literals. */
export interface TransparentAddon {
  /** A listening IP_TRANSPARENT socket, created in `nsPath`'s network namespace if given. Returns its fd. */
  listen(host: string, port: number, backlog: number, nsPath: string | null): number;
  /**
   * A non-blocking, unconnected TCP socket of `family`, created in `nsPath`'s network namespace if
   * given, with SO_MARK `mark` (0: none) and, given `sourceHost`, IP_TRANSPARENT and bound to it.
   * Returns its fd; the caller adopts it into a `net.Socket` and connects it in the event loop.
   */
  socket(
    family: 4 | 6,
    mark: number,
    sourceHost: string | null,
    sourcePort: number,
    nsPath: string | null,
  ): number;
  /** SO_ORIGINAL_DST of a NATed (REDIRECT) connection, or null when it was not NATed. */
  originalDst(fd: number, family: 4 | 6): { address: string; port: number } | null;
}

let addon: TransparentAddon | undefined;

/** What to run when neither a prebuilt addon nor a local build loads; works in any project. */
export const ADDON_BUILD_HINT =
  'rebuild it from source in your project: "npm rebuild @switchyard/driver-tproxy" (npm) or "pnpm rebuild @switchyard/driver-tproxy" (pnpm); that needs python3, make and a C compiler (apt-get install python3 make gcc)';

/**
 * Loads the addon on first use, so importing the driver does nothing. node-gyp-build picks a local
 * build (`build/Release/`, made by the install script or `node-gyp rebuild`) first, then the
 * prebuilt binary the package ships for linux-x64 and linux-arm64 (`prebuilds/`).
 *
 * @throws UnsupportedPlatformError off Linux, or when no build fits this machine, saying what to run.
 */
export function loadAddon(): TransparentAddon {
  if (addon) return addon;
  if (process.platform !== 'linux') {
    throw new UnsupportedPlatformError(
      `the tproxy driver's socket operations need Linux (this is ${process.platform}); on Windows use the hns driver`,
    );
  }
  try {
    // The package root is one level above both src/ and dist/.
    const nodeGypBuild = createRequire(import.meta.url)('node-gyp-build') as NodeGypBuild;
    addon = nodeGypBuild(fileURLToPath(new URL('..', import.meta.url))) as TransparentAddon;
    return addon;
  } catch (cause) {
    throw new UnsupportedPlatformError(
      `the tproxy native addon has no prebuilt binary for linux-${process.arch} and was not built here (${(cause as Error).message.split('\n')[0]}); ${ADDON_BUILD_HINT}`,
      { cause },
    );
  }
}
