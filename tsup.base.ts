import { defineConfig, type Options } from 'tsup';

/** The build every workspace package shares: ESM for Node 22+, type declarations, source maps. */
export function packageBuild(entry: string[], extra: Partial<Options> = {}) {
  return defineConfig({
    entry,
    format: ['esm'],
    target: 'node22',
    dts: true,
    clean: true,
    sourcemap: true,
    external: ['vitest'],
    ...extra,
  });
}
