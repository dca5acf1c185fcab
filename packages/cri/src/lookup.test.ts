import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadHcn, namespaceEndpoints } from '@switchyard/driver-hns';
import { buildStandIn, standInHooks, standInUnavailable } from '@switchyard/driver-hns/testing';
import { describeRequiring } from '@switchyard/test-kit';
import { describe, expect, it } from 'vitest';
import type { CriClient } from './cri-client.js';
import { captureTarget, lookupPod, lookupWorkload } from './lookup.js';

const fixtures = join(import.meta.dirname, '..', 'test-fixtures');
const windowsInfo = readFileSync(join(fixtures, 'windows-sandbox-info.json'), 'utf8');
const linuxInfo = JSON.stringify({
  pid: 4242,
  runtimeSpec: { linux: { namespaces: [{ type: 'network', path: '/var/run/netns/cni-1' }] } },
});

/** A recorded runtime: answers List/Status calls from fixed data, in the shapes grpc-js decodes. */
function recordedRuntime(
  pods: { id: string; info: string }[],
  containers: { id: string; podSandboxId: string }[] = [],
): CriClient {
  return {
    endpoint: 'recorded',
    version: { runtimeName: 'recorded', runtimeVersion: '0', runtimeApiVersion: 'v1' },
    close() {},
    async call(method: string, request: Record<string, unknown>) {
      if (method === 'ListPodSandbox') return { items: pods.map((p) => ({ id: p.id })) } as never;
      if (method === 'ListContainers')
        return { containers: containers.map((c) => ({ ...c, metadata: { name: 'app' } })) } as never;
      const pod = pods.find((p) => p.id === request.podSandboxId);
      return {
        status: {
          id: pod?.id,
          state: 'SANDBOX_READY',
          metadata: { name: 'web', namespace: 'default', uid: 'u' },
          network: { ip: '10.244.1.7', additionalIps: [] },
          labels: {},
          annotations: {},
        },
        info: { info: pod?.info },
      } as never;
    },
  };
}

describe('lookup (prefixes, ambiguity, Windows)', () => {
  it('accepts a unique prefix and refuses an ambiguous one, listing the candidates', async () => {
    const cri = recordedRuntime([
      { id: 'abc111', info: linuxInfo },
      { id: 'abc222', info: linuxInfo },
      { id: 'def333', info: linuxInfo },
    ]);
    expect((await lookupPod(cri, 'def')).podSandboxId).toBe('def333');
    await expect(lookupPod(cri, 'abc')).rejects.toMatchObject({
      code: 'SWY_ERR_TARGET_INVALID',
      message: /2 pod ids \(abc111, abc222\)/,
    });
    await expect(lookupWorkload(cri, 'fff')).rejects.toMatchObject({ code: 'SWY_ERR_TARGET_NOT_FOUND' });
  });

  it('asks the runtime to filter by id, and reads the whole list only when the filtered one is empty', async () => {
    const requests: unknown[] = [];
    const cri = recordedRuntime([{ id: 'def333', info: linuxInfo }]);
    const call = cri.call.bind(cri);
    cri.call = async (method, request) => {
      requests.push([method, request]);
      return call(method, request);
    };
    await lookupPod(cri, 'def');
    expect(requests[0]).toEqual(['ListPodSandbox', { filter: { id: 'def' } }]);
    expect(requests).toHaveLength(2); // the filtered list, then the status: no unfiltered list
  });

  it.each([
    ['empty info (some CRI-O versions)', '{}', /info without a runtime spec/],
    ['unparsable info', 'not json', /unparsable info \("not json"\)/],
    ['no info at all', '', /no info/],
  ])('refuses %s: an unknown network is never the host network', async (_name, info, message) => {
    const cri = recordedRuntime([{ id: 'p1', info }]);
    await expect(lookupPod(cri, 'p1')).rejects.toMatchObject({
      code: 'SWY_ERR_RUNTIME_UNAVAILABLE',
      message,
    });
  });

  describeRequiring(standInUnavailable(), 'through the stand-in computenetwork library', () => {
    it("resolves a Windows pod's HNS namespace to its endpoint", async () => {
      const library = buildStandIn();
      standInHooks(library).seed(
        JSON.parse(readFileSync(join(fixtures, '../../driver-hns/test-fixtures/hns-state.json'), 'utf8')),
      );
      const api = await loadHcn({ computenetwork: library, vmcompute: library, ole32: library });
      const cri = recordedRuntime(
        [{ id: 'win0001', info: windowsInfo }],
        [{ id: 'c0ffee01', podSandboxId: 'win0001' }],
      );
      const found = await lookupWorkload(cri, 'c0ffee', {
        resolveHnsNamespace: (ns) => namespaceEndpoints(api, ns),
      });
      expect(found).toMatchObject({
        platform: 'windows',
        hnsNamespace: '0c7f5a3e-2b1d-4f6a-9e8c-1a2b3c4d5e6f',
        hnsEndpoints: ['93f86a7f-e361-4362-b8a4-81bbb6a622dd'],
        containerId: 'c0ffee01',
      });
      expect(captureTarget(found)).toEqual({
        kind: 'hns-endpoint',
        id: '93f86a7f-e361-4362-b8a4-81bbb6a622dd',
      });
    });
  });
});
