import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import koffi from 'koffi';

const packageRoot = join(import.meta.dirname, '..', '..');
const source = join(packageRoot, 'stand-in', 'computenetwork.c');
const library = join(packageRoot, 'build', 'libcomputenetwork-standin.so');

/** Why the stand-in cannot be built here, or undefined when it can. */
export function standInUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'the stand-in library is built with gcc on Linux';
  try {
    execFileSync('sh', ['-c', 'command -v gcc && test -f /usr/include/cjson/cJSON.h'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'gcc and cJSON headers are needed (apt-get install gcc libcjson-dev; scripts/system-deps.sh does)';
  }
}

/** Compiles the stand-in computenetwork library (when its source is newer) and returns its path. */
export function buildStandIn(): string {
  if (!existsSync(library) || statSync(library).mtimeMs < statSync(source).mtimeMs) {
    mkdirSync(join(packageRoot, 'build'), { recursive: true });
    // Test files in parallel may build it at once: each compiles to its own file and renames it
    // into place, so no process ever loads a library another is still writing.
    const partial = `${library}.${process.pid}.${threadId}.tmp`;
    execFileSync('gcc', [
      '-shared',
      '-fPIC',
      '-O1',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-o',
      partial,
      source,
      '-lcjson',
      '-lpthread',
    ]);
    renameSync(partial, library);
  }
  return library;
}

/**
 * Libraries whose hooks were asked for, held for the life of the process: koffi unloads a library
 * once nothing references it, and an unloaded stand-in forgets the state it was seeded with (a
 * later load starts empty). A test that seeds and drops the hooks would lose its endpoints to a
 * garbage collection.
 */
const loaded = new Map<string, ReturnType<typeof koffi.load>>();

/** The stand-in's test hooks, through the same koffi the driver uses. */
export function standInHooks(path = buildStandIn()) {
  const lib = loaded.get(path) ?? koffi.load(path);
  loaded.set(path, lib);
  const load = lib.func('int StandinLoad(const char *path)');
  const outstanding = lib.func('long StandinOutstanding(void)');
  const calls = lib.func('long StandinCallCount(void)');
  return {
    path,
    /** Replaces the stand-in's endpoints, namespaces and HNS version with this state. */
    seed(state: unknown): void {
      const file = join(tmpdir(), `swy-hns-seed-${process.pid}.json`);
      writeFileSync(file, JSON.stringify(state));
      const loaded = load(file);
      rmSync(file, { force: true }); // the stand-in has read it; leave nothing behind
      if (loaded !== 0) throw new Error(`the stand-in could not load ${file}`);
    },
    /** Strings handed to the caller and not yet freed with CoTaskMemFree. */
    outstanding: () => Number(outstanding()),
    /** HCN calls made since the last seed. */
    calls: () => Number(calls()),
  };
}
