import { execFile } from 'node:child_process';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SUPPORTED_CNI_VERSIONS } from './conflist.js';
import { AGENT_PATHS, DEFAULT_AGENT_SOCKET, DEFAULT_AGENT_TIMEOUT_SECONDS } from './protocol.js';

/** The programs this package builds, by their file name. */
export const NATIVE_PROGRAMS = Object.freeze({
  /** The chained CNI plugin (its conflist `type`). */
  cni: 'switchyard-cni',
  /** The OCI runtime wrapper dockerd runs. */
  runtime: 'switchyard-runtime',
});

/**
 * `release`: static position-independent binaries with the hardening flags (fortified libc
 * calls, stack protector, full RELRO), for installing on hosts. `sanitized`: dynamically linked
 * with AddressSanitizer and UndefinedBehaviorSanitizer, every finding fatal, for tests.
 */
export type NativeVariant = 'release' | 'sanitized';

/** Where and how {@link buildNative} builds. */
export interface NativeBuildOptions {
  /** The directory the two binaries are written into (created when missing). */
  outDir: string;
  /** Default `release`. */
  variant?: NativeVariant;
  /** The C compiler. Default `gcc`. */
  cc?: string;
}

/** The paths of the built programs. */
export interface NativeBinaries {
  cni: string;
  runtime: string;
}

const SHARED_SOURCES = ['agent-call.c', 'json-scan.c', 'out-buf.c'];
/** Sources only one program needs. */
const OWN_SOURCES: Record<string, string[]> = { [NATIVE_PROGRAMS.runtime]: ['runtime-abort.c'] };
const WARNINGS = ['-Wall', '-Wextra', '-Werror'];
/** The protocol's constants, handed to the C sources (native/protocol.h) so they are defined once. */
const PROTOCOL = [
  `-DSY_AGENT_SOCKET=${JSON.stringify(DEFAULT_AGENT_SOCKET)}`,
  `-DSY_CNI_PATH=${JSON.stringify(AGENT_PATHS.cni)}`,
  `-DSY_START_PATH=${JSON.stringify(AGENT_PATHS.runtimeStart)}`,
  `-DSY_AGENT_TIMEOUT_S=${DEFAULT_AGENT_TIMEOUT_SECONDS}`,
  `-DSY_CNI_VERSIONS=${SUPPORTED_CNI_VERSIONS.map((v) => JSON.stringify(v)).join(',')}`,
];
const FLAGS: Record<NativeVariant, string[]> = {
  release: [
    '-O2',
    ...WARNINGS,
    '-D_FORTIFY_SOURCE=2',
    '-fstack-protector-strong',
    '-fPIE',
    '-static-pie',
    '-Wl,-z,relro,-z,now',
  ],
  sanitized: [
    '-O1',
    '-g',
    ...WARNINGS,
    '-fno-omit-frame-pointer',
    '-fsanitize=address,undefined',
    '-fno-sanitize-recover=all',
  ],
};

/** The directory holding the C sources (beside `src/` and `dist/` alike). */
export function nativeSourceDir(): string {
  return fileURLToPath(new URL('../native/', import.meta.url));
}

async function compile(cc: string, variant: NativeVariant, program: string, outDir: string): Promise<string> {
  const dir = nativeSourceDir();
  const target = join(outDir, program);
  const temp = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const sources = [`${program}.c`, ...(OWN_SOURCES[program] ?? []), ...SHARED_SOURCES].map((f) =>
    join(dir, f),
  );
  try {
    await promisify(execFile)(cc, [...FLAGS[variant], ...PROTOCOL, '-o', temp, ...sources], {
      maxBuffer: 4 << 20,
    });
    await rename(temp, target); // atomic: a concurrent build or a running test never sees half a binary
  } catch (error) {
    await rm(temp, { force: true });
    const { UnsupportedPlatformError } = await import('@switchyard/core');
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    const why =
      e.code === 'ENOENT'
        ? `the C compiler ${cc} is not installed`
        : `${cc} failed: ${(e.stderr ?? e.message).trim().slice(-2000)}`;
    throw new UnsupportedPlatformError(
      `Cannot build ${program} (${variant}): ${why}. It needs gcc and the C library's static archive (apt-get install gcc libc6-dev).`,
      { cause: error },
    );
  }
  return target;
}

/**
 * Compiles `switchyard-cni` and `switchyard-runtime` from this package's C sources into
 * `outDir`, each written to a temporary name and renamed into place.
 *
 * @example
 * ```ts
 * const { cni, runtime } = await buildNative({ outDir: '/opt/switchyard/bin' });
 * ```
 */
export async function buildNative(options: NativeBuildOptions): Promise<NativeBinaries> {
  const { outDir, variant = 'release', cc = 'gcc' } = options;
  await mkdir(outDir, { recursive: true });
  const [cni, runtime] = await Promise.all([
    compile(cc, variant, NATIVE_PROGRAMS.cni, outDir),
    compile(cc, variant, NATIVE_PROGRAMS.runtime, outDir),
  ]);
  return { cni, runtime };
}
