import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hnsDriver, loadHcn } from '@switchyard/driver-hns';
import { buildStandIn, standInHooks, standInUnavailable } from '@switchyard/driver-hns/testing';
import { describeRequiring } from '@switchyard/test-kit';
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { validateConfig } from '../config/validate-config.js';
import { hnsEndpointFinder } from '../network/hns-endpoint-of.js';
import { metadataPolicy } from './metadata-policy.js';

const reason = standInUnavailable();
const A = '93f86a7f-e361-4362-b8a4-81bbb6a622dd';
const B = '5d0c3b1a-7e2f-4a6b-8c9d-0e1f2a3b4c5d';
const NAT = { Type: 'OutBoundNAT', Settings: { Exceptions: ['10.244.0.0/16'] } };
/** Two container endpoints as HNS reports them; B already holds a policy of someone else's. */
const STATE = {
  Version: { Major: 15, Minor: 1 },
  Endpoints: [
    {
      ID: A,
      Name: 'client_eth0',
      IpConfigurations: [{ IpAddress: '172.28.16.5', PrefixLength: 20 }],
      Policies: [],
    },
    {
      ID: B,
      Name: 'proxy_eth0',
      IpConfigurations: [{ IpAddress: '172.28.16.6', PrefixLength: 20 }],
      Policies: [NAT],
    },
  ],
  Namespaces: [],
};

describeRequiring(reason, 'metadata proxying on Windows through koffi and the HNS stand-in', () => {
  let library: string;
  let stateDir: string;
  const paths = () => ({ computenetwork: library, vmcompute: library, ole32: library });
  const config = validateConfig(
    { identity: { caDir: '/ca' }, metadataProxy: { endpoints: ['169.254.169.254:80'] } },
    '/etc',
  ).metadataProxy!;

  beforeAll(() => {
    library = buildStandIn();
  });
  beforeEach(() => {
    standInHooks(library).seed(STATE);
    stateDir = mkdtempSync(join(tmpdir(), 'sy13-hns-state-'));
  });
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  it("finds a container's endpoint by its address, and says so when none has it", async () => {
    const find = hnsEndpointFinder(() => loadHcn(paths()));
    expect(await find('172.28.16.5')).toBe(A);
    expect(await find('172.28.16.6')).toBe(B);
    await expect(find('10.9.9.9')).rejects.toMatchObject({
      code: 'SWY_ERR_TARGET_NOT_FOUND',
      message: "no HNS endpoint has the address 10.9.9.9; is the container's network up?",
    });
  });

  it('a lookup whose library failed to load loads it again next time (a failure is not kept)', async () => {
    let loads = 0;
    const find = hnsEndpointFinder(() =>
      ++loads === 1 ? Promise.reject(new Error('computenetwork.dll not loadable yet')) : loadHcn(paths()),
    );
    await expect(find('172.28.16.5')).rejects.toThrow('computenetwork.dll not loadable yet');
    expect(await find('172.28.16.5')).toBe(A);
    expect(await find('172.28.16.6')).toBe(B);
    expect(loads).toBe(2);
  });

  it('a client gets one L4WFPPROXY policy filtered to the endpoint address and port; removing it leaves others', async () => {
    const driver = hnsDriver({ library: paths(), stateDir });
    const target = { kind: 'hns-endpoint', id: A } as const;
    const policy = metadataPolicy(config, { mark: 0x539, userSid: 'S-1-5-18' });
    const applied = await driver.apply(target, policy);
    expect(applied.changed).toBe(true);
    expect((await driver.apply(target, policy)).changed).toBe(false);
    const hcn = await loadHcn(paths());
    expect((await hcn.queryEndpoint(A, '{}')).Policies).toEqual([
      {
        Type: 'L4WFPPROXY',
        Settings: {
          OutboundProxyPort: '15081',
          FilterTuple: { Protocols: '6', RemoteAddresses: '169.254.169.254', RemotePorts: '80' },
          UserSID: 'S-1-5-18',
          OutboundExceptions: { IpAddressExceptions: ['127.0.0.1'] },
        },
      },
    ]);
    expect((await hcn.queryEndpoint(B, '{}')).Policies).toEqual([NAT]); // a container without the label
    expect(await driver.remove(target, 'switchyard-metadata')).toBe(1);
    expect((await hcn.queryEndpoint(A, '{}')).Policies).toEqual([]);
  });
});
