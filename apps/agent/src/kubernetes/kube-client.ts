import { registerHooks } from 'node:module';
import type { KubeConfig, ListWatch, Watch } from '@kubernetes/client-node';

/**
 * The pieces of `@kubernetes/client-node` the agent uses — `KubeConfig` (kubeconfig files,
 * in-cluster service accounts, every auth method), `Watch`, `ListWatch`, and the library's own
 * HTTP layer for lists and reads — without its generated API index and models: those are ~45 MB
 * of resident memory (their code and the objects each model class declares) on every node, and
 * the agent reads JSON itself.
 */
export interface KubeClient {
  KubeConfig: typeof KubeConfig;
  Watch: typeof Watch;
  ListWatch: typeof ListWatch;
}

const PACKAGE_DIST = '/@kubernetes/client-node/dist/';

/**
 * The two imports inside the library that pull the generated code in, each to a module with only
 * what the importing file uses: `config.js` takes `createConfiguration` and `ServerConfiguration`
 * from the generated index (which loads every API and model) — they come from their own files;
 * `cache.js` (ListWatch) takes `ObjectSerializer` (every model) only to pass string selectors on,
 * unchanged. Every other importer, the full index included, is left as it is.
 */
function slimImport(specifier: string, parentURL: string | undefined): string | undefined {
  if (!parentURL?.includes(PACKAGE_DIST)) return undefined;
  const at = (path: string) => JSON.stringify(new URL(path, parentURL).href);
  if (specifier === './gen/index.js' && parentURL.endsWith(`${PACKAGE_DIST}config.js`))
    return moduleOf(
      `export { createConfiguration } from ${at('./gen/configuration.js')};` +
        `export { ServerConfiguration } from ${at('./gen/servers.js')};`,
    );
  if (specifier === './serializer.js' && parentURL.endsWith(`${PACKAGE_DIST}cache.js`))
    return moduleOf('export class ObjectSerializer { static serialize(data) { return data; } }');
  return undefined;
}

const moduleOf = (source: string) => `data:text/javascript,${encodeURIComponent(source)}`;

let hooked = false;
let loaded: Promise<KubeClient> | undefined;

/** Loads the client light (once per process): see {@link KubeClient}. */
export function loadKubeClient(): Promise<KubeClient> {
  if (!hooked) {
    hooked = true;
    registerHooks({
      resolve(specifier, context, next) {
        const url = slimImport(specifier, context.parentURL);
        return url ? { url, shortCircuit: true } : next(specifier, context);
      },
    });
  }
  loaded ??= Promise.all([
    import('@kubernetes/client-node/dist/config.js'),
    import('@kubernetes/client-node/dist/watch.js'),
    import('@kubernetes/client-node/dist/cache.js'),
  ]).then(([config, watch, cache]) => ({
    KubeConfig: config.KubeConfig,
    Watch: watch.Watch,
    ListWatch: cache.ListWatch,
  }));
  return loaded;
}
