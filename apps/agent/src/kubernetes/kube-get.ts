import type { KubeConfig } from '@kubernetes/client-node';

/** Query parameters of a GET (undefined ones are left out). */
export type KubeQuery = Record<string, string | number | boolean | undefined>;

/**
 * One GET on the API server as the library's generated clients make it — the kubeconfig's
 * server, its authentication (`applySecurityAuthentication`: tokens, client certificates, exec
 * plugins), the library's HTTP layer — with the JSON answer kept as JSON, not turned into model
 * objects. A status other than 200 rejects with the library's `ApiException` (`code`: the status).
 */
export async function kubeGet<T>(kc: KubeConfig, path: string, query: KubeQuery = {}): Promise<T> {
  const [{ HttpMethod, RequestContext }, { IsomorphicFetchHttpLibrary }, { ApiException }] =
    await Promise.all([
      import('@kubernetes/client-node/dist/gen/http/http.js'),
      import('@kubernetes/client-node/dist/gen/http/isomorphic-fetch.js'),
      import('@kubernetes/client-node/dist/gen/apis/exception.js'),
    ]);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(cluster.server + path);
  for (const [key, value] of Object.entries(query))
    if (value !== undefined) url.searchParams.set(key, String(value));
  const request = new RequestContext(url.toString(), HttpMethod.GET);
  request.setHeaderParam('Accept', 'application/json');
  await kc.applySecurityAuthentication(request);
  const response = await new IsomorphicFetchHttpLibrary().send(request).toPromise();
  const text = await response.body.text();
  if (response.httpStatusCode !== 200) {
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    throw new ApiException(response.httpStatusCode, `GET ${path}`, body, response.headers);
  }
  return JSON.parse(text) as T;
}
