import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_PATHS, type CniRequest } from '@switchyard/cni';
import { jsonLogger } from '@switchyard/dataplane';
import { hnsDriver, loadHcn, namespaceEndpoints } from '@switchyard/driver-hns';
import { buildStandIn, standInHooks, standInUnavailable } from '@switchyard/driver-hns/testing';
import { initCa } from '@switchyard/mesh';
import { describeRequiring, freePort } from '@switchyard/test-kit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Agent } from '../agent.js';
import { validateConfig } from '../config/validate-config.js';
import { FakeKubeApi } from '../testing/fake-kube-api.js';
import { namespaceObject, podObject, writeKubeconfig } from '../testing/kube-fixtures.js';

const reason = standInUnavailable();
const ENDPOINT = '93f86a7f-e361-4362-b8a4-81bbb6a622dd';
const NAMESPACE = '0c7f5a3e-2b1d-4f6a-9e8c-1a2b3c4d5e6f';
/** A Windows node as HNS reports it after the main CNI plugin made the pod's endpoint. */
const HNS_STATE = {
  Version: { Major: 15, Minor: 1 },
  Endpoints: [
    {
      ID: ENDPOINT,
      Name: 'win-0_eth0',
      HostComputeNamespace: NAMESPACE,
      IpConfigurations: [{ IpAddress: '10.244.1.7', PrefixLength: 24 }],
      Policies: [],
    },
  ],
  Namespaces: [{ ID: NAMESPACE, Type: 'Host', Resources: [{ Type: 'Endpoint', Data: { Id: ENDPOINT } }] }],
};
const PREV_RESULT = {
  cniVersion: '1.0.0',
  interfaces: [{ name: 'eth0' }],
  ips: [{ address: '10.244.1.7/24', interface: 0, gateway: '10.244.1.1' }],
};

function post(socketPath: string, body: CniRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: AGENT_PATHS.cni, method: 'POST' }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/**
 * The CNI contract on Windows: CNI_NETNS is the pod's HNS namespace, whose endpoint the main
 * plugin made. The agent (hns driver through koffi, against the stand-in library with the
 * computenetwork.dll ABI) puts its L4WFPPROXY policies on that endpoint before answering ADD,
 * and takes them off when the sandbox's DEL comes before the pod ever ran.
 */
describeRequiring(
  reason,
  'capture before a Windows pod starts: CNI ADD on an HNS namespace (stand-in)',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'swy-prestart-win-'));
    const socket = join(dir, 'state', 'agent.sock');
    let api: FakeKubeApi;
    let agent: Agent;
    let paths: { computenetwork: string; vmcompute: string; ole32: string };
    const add = (command: CniRequest['command']): CniRequest => ({
      command,
      containerId: 'f00dcafe',
      netns: NAMESPACE.toUpperCase(),
      ifName: 'eth0',
      args: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=web;K8S_POD_NAME=win-0;K8S_POD_UID=uid-win-0',
      config: {
        cniVersion: '1.0.0',
        name: 'k8s-pod-network',
        type: 'switchyard-cni',
        prevResult: PREV_RESULT,
      },
    });
    const policies = async () =>
      (await (await loadHcn(paths)).queryEndpoint(ENDPOINT, '{}')).Policies as unknown[];

    beforeAll(async () => {
      // A copy of its own: a library loaded twice by one path shares one state between test files
      // that run side by side in one process.
      const library = join(dir, 'libcomputenetwork-standin.so');
      copyFileSync(buildStandIn(), library);
      paths = { computenetwork: library, vmcompute: library, ole32: library };
      standInHooks(library).seed(HNS_STATE);
      api = await new FakeKubeApi().start();
      api.put('namespaces', namespaceObject('web', { 'switchyard.io/capture': 'enabled' }));
      api.put(
        'pods',
        podObject({ name: 'win-0', namespace: 'web', node: 'n1', uid: 'uid-win-0', phase: 'Pending' }),
      );
      await initCa({ dir: join(dir, 'ca'), trustDomain: 'cluster.local' });
      const [inbound, outbound, hbone, admin] = [
        await freePort(),
        await freePort(),
        await freePort(),
        await freePort(),
      ];
      const config = validateConfig(
        {
          node: 'n1',
          source: { kind: 'kubernetes', kubeconfig: writeKubeconfig(dir, api.url) },
          identity: { caDir: 'ca' },
          meshCidrs: ['10.244.0.0/16'],
          families: ['ipv4'],
          ports: { inbound, outbound, hbone },
          bypass: { userSid: 'S-1-5-18' },
          stateDir: 'state',
          runtimeSocket: socket,
          admin: { port: admin },
          drainSeconds: 0,
        },
        dir,
      );
      agent = await Agent.start(config, {
        driver: hnsDriver({ library: paths, stateDir: join(dir, 'hns-state') }),
        hnsEndpoints: async (ns) => namespaceEndpoints(await loadHcn(paths), ns),
        logger: jsonLogger({ level: 'error' }),
      });
    }, 60_000);
    afterAll(async () => {
      await agent?.stop();
      await api?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('ADD answers with the main plugin’s result once the endpoint holds the L4WFPPROXY policy; DEL takes it off', async () => {
      expect(await policies()).toEqual([]);
      const answer = await post(socket, add('ADD'));
      expect(answer).toMatchObject({ status: 200 });
      expect(JSON.parse(answer.body)).toEqual(PREV_RESULT);
      const held = await policies();
      expect(held).toHaveLength(1);
      expect(held[0]).toMatchObject({ Type: 'L4WFPPROXY', Settings: { UserSID: 'S-1-5-18' } });
      expect(agent.status().workloads).toMatchObject([
        { id: 'web/win-0', phase: 'captured', target: `hns:${ENDPOINT}` },
      ]);
      expect((await post(socket, add('CHECK'))).status).toBe(200);
      expect(await post(socket, add('DEL'))).toEqual({ status: 200, body: '' });
      await expect.poll(policies).toEqual([]);
      expect(agent.status().workloads).toEqual([]);
    });
  },
);
