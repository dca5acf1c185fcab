import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeDriverCompliance } from '@switchyard/core/testing';
import { describeRequiring } from '@switchyard/test-kit';
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { loadHcn } from './hcn-binding.js';
import { hnsDriver } from './hns-driver.js';
import { namespaceEndpoints } from './namespace-endpoints.js';
import { buildStandIn, standInHooks, standInUnavailable } from './testing/stand-in.js';

const seedState = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'test-fixtures', 'hns-state.json'), 'utf8'),
);
const A = '93f86a7f-e361-4362-b8a4-81bbb6a622dd';
const B = '5d0c3b1a-7e2f-4a6b-8c9d-0e1f2a3b4c5d';
const reason = standInUnavailable();

describeRequiring(reason, 'driver-hns against the stand-in computenetwork library', () => {
  let library: string;
  let hooks: ReturnType<typeof standInHooks>;
  let stateDir: string;
  const create = () =>
    hnsDriver({ library: { computenetwork: library, vmcompute: library, ole32: library }, stateDir });

  beforeAll(() => {
    library = buildStandIn();
    hooks = standInHooks(library);
  });
  beforeEach(() => {
    hooks.seed(seedState);
    stateDir = mkdtempSync(join(tmpdir(), 'swy-hns-state-'));
  });
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  describeDriverCompliance({
    title: 'hns (stand-in)',
    create: () => create(),
    target: () => ({ kind: 'hns-endpoint', id: A }),
    unsupportedTarget: { kind: 'netns', name: 'linux-only' },
  });

  it('sends HNS exactly the documented request, field by field', async () => {
    const driver = create();
    await driver.apply(
      { kind: 'hns-endpoint', id: A },
      {
        families: ['ipv4'],
        inbound: { port: 15006, excludePorts: [15020] },
        outbound: { port: 15001, excludeCidrs: ['169.254.169.254/32'] },
        bypass: { userSid: 's-1-5-32-556' },
      },
    );
    const api = await loadHcn({ computenetwork: library, vmcompute: library, ole32: library });
    const endpoint = await api.queryEndpoint(A, '{}');
    expect(endpoint.Policies).toEqual([
      {
        Type: 'L4WFPPROXY',
        Settings: {
          InboundProxyPort: '15006',
          OutboundProxyPort: '15001',
          FilterTuple: { Protocols: '6' },
          UserSID: 'S-1-5-32-556',
          InboundExceptions: { IpAddressExceptions: ['127.0.0.1'], PortExceptions: ['15020'] },
          OutboundExceptions: { IpAddressExceptions: ['127.0.0.1', '169.254.169.254'] },
        },
      },
    ]);
  });

  it('leaves other policies alone and clears every L4WFPPROXY policy on request (hcnproxyctl ClearPolicies)', async () => {
    const driver = create();
    const target = { kind: 'hns-endpoint', id: B } as const;
    await driver.apply(target, { families: ['ipv4'], outbound: { port: 15001 } });
    expect(await driver.list(target)).toHaveLength(1);
    const all = await driver.proxyPolicies(B);
    expect(all).toHaveLength(1);
    const api = await loadHcn({ computenetwork: library, vmcompute: library, ole32: library });
    expect(((await api.queryEndpoint(B, '{}')).Policies as unknown[]).length).toBe(2); // OutBoundNAT stays
    expect((await driver.clearAll(B)).removed).toBe(1);
    expect((await api.queryEndpoint(B, '{}')).Policies).toEqual([
      { Type: 'OutBoundNAT', Settings: { Exceptions: ['10.244.0.0/16'] } },
    ]);
    expect(await driver.list(target)).toEqual([]);
  });

  it('turns HRESULTs and error records into typed errors with the HCN code name', async () => {
    const driver = create();
    await expect(
      driver.apply(
        { kind: 'hns-endpoint', id: '00000000-0000-4000-8000-000000000000' },
        { families: ['ipv4'], inbound: {} },
      ),
    ).rejects.toMatchObject({
      code: 'SWY_ERR_TARGET_NOT_FOUND',
      cause: { hcnCode: 'HCN_E_ENDPOINT_NOT_FOUND', hresult: 0x803b0002 },
    });
    const api = await loadHcn({ computenetwork: library, vmcompute: library, ole32: library });
    await expect(api.modifyEndpoint(A, '{not json')).rejects.toMatchObject({
      hcnCode: 'HCN_E_INVALID_JSON',
      message: /0x803B001B.*not valid JSON/,
    });
    const policy = { Type: 'L4WFPPROXY', Settings: { InboundProxyPort: '15006' } };
    await api.modifyEndpoint(
      A,
      JSON.stringify({ ResourceType: 'Policy', RequestType: 'Add', Settings: { Policies: [policy] } }),
    );
    await expect(
      api.modifyEndpoint(
        A,
        JSON.stringify({ ResourceType: 'Policy', RequestType: 'Add', Settings: { Policies: [policy] } }),
      ),
    ).rejects.toMatchObject({
      hcnCode: 'HCN_E_POLICY_ALREADY_EXISTS',
    });
    await expect(
      api.modifyEndpoint(
        A,
        JSON.stringify({
          ResourceType: 'Policy',
          RequestType: 'Add',
          Settings: { Policies: [{ Type: 'L4Bogus', Settings: {} }] },
        }),
      ),
    ).rejects.toMatchObject({ hcnCode: 'HCN_E_INVALID_POLICY_TYPE' });
    await expect(
      api.modifyEndpoint(
        A,
        JSON.stringify({
          ResourceType: 'Policy',
          RequestType: 'Remove',
          Settings: { Policies: [{ ...policy, Settings: { InboundProxyPort: '15007' } }] },
        }),
      ),
    ).rejects.toMatchObject({ hcnCode: 'HCN_E_POLICY_NOT_FOUND' });
  });

  it('refuses policies that need a newer HNS, naming the version', async () => {
    hooks.seed({ ...seedState, Version: { Major: 12, Minor: 0 } });
    const driver = create();
    expect(await driver.probe()).toMatchObject({ usable: false, details: { hnsVersion: '12.0' } });
    await expect(
      driver.apply({ kind: 'hns-endpoint', id: A }, { families: ['ipv4'], inbound: {} }),
    ).rejects.toThrow(/needs HNS 13\.2.*this host has HNS 12\.0/);
  });

  it('resolves a namespace to its endpoints', async () => {
    const api = await loadHcn({ computenetwork: library, vmcompute: library, ole32: library });
    expect(await namespaceEndpoints(api, '0c7f5a3e-2b1d-4f6a-9e8c-1a2b3c4d5e6f')).toEqual([A]);
    expect(await namespaceEndpoints(api, '7a8b9c0d-1e2f-4a3b-8c5d-6e7f8091a2b3')).toEqual([B]);
  });

  it('frees every string HCN returned (no leak through the FFI)', async () => {
    const driver = create();
    const target = { kind: 'hns-endpoint', id: A } as const;
    const before = hooks.outstanding();
    for (let i = 0; i < 20; i++) {
      await driver.apply(target, { families: ['ipv4'], outbound: { port: 15001 + i } });
      await driver.list(target);
      await driver.apply(target, { families: ['ipv4'], inbound: { port: 99999 } }).catch(() => {});
    }
    await driver.remove(target);
    await driver
      .apply(
        { kind: 'hns-endpoint', id: '00000000-0000-4000-8000-000000000000' },
        { families: ['ipv4'], inbound: {} },
      )
      .catch(() => {});
    expect(hooks.calls()).toBeGreaterThan(60);
    expect(hooks.outstanding()).toBe(before);
  });

  it('a library that could not be loaded is loaded again on the next call (a failure is not kept)', async () => {
    const later = join(stateDir, 'computenetwork-later.so');
    const driver = hnsDriver({
      library: { computenetwork: later, vmcompute: later, ole32: later },
      stateDir,
    });
    const target = { kind: 'hns-endpoint', id: A } as const;
    await expect(driver.list(target)).rejects.toMatchObject({ code: 'SWY_ERR_UNSUPPORTED_PLATFORM' });
    symlinkSync(library, later); // the same file: the same loaded library and state
    expect(await driver.list(target)).toEqual([]);
  });

  it('says "Windows only" on Linux when no library is given', async () => {
    expect(await hnsDriver().probe()).toMatchObject({
      usable: false,
      problems: [{ message: /Windows only/ }],
    });
  });
});
