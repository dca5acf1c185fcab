import { createRequire } from 'node:module';
import { UnsupportedPlatformError } from '@switchyard/core';

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

/**
 * Loads the addon on first use, so importing the driver does nothing. The build lands in
 * `build/Release/` at the package root, one level above both `src/` and `dist/`.
 *
 * @throws UnsupportedPlatformError off Linux, or when the addon was not built.
 */
export function loadAddon(): TransparentAddon {
  if (addon) return addon;
  if (process.platform !== 'linux') {
    throw new UnsupportedPlatformError(
      `the tproxy driver's socket operations need Linux (this is ${process.platform}); on Windows use the hns driver`,
    );
  }
  try {
    addon = createRequire(import.meta.url)('../build/Release/switchyard_tproxy.node') as TransparentAddon;
    return addon;
  } catch (cause) {
    throw new UnsupportedPlatformError(
      `the tproxy native addon is not built (${(cause as Error).message.split('\n')[0]}); build it with "pnpm --filter @switchyard/driver-tproxy build:native" (needs python3, make and a C compiler)`,
      { cause },
    );
  }
}
