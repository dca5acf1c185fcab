import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildStandIn, standInHooks, standInUnavailable } from '@switchyard/driver-hns/testing';
import { describeRequiring } from '@switchyard/test-kit';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cli, repo } from './testing/run-cli.js';

const EP = '93f86a7f-e361-4362-b8a4-81bbb6a622dd';

describe('switchyard hns (no HNS needed)', () => {
  it('add --dry-run prints the exact HcnModifyEndpoint request and calls nothing, on any OS', async () => {
    const r = await cli(
      'hns',
      'add',
      EP,
      '--port',
      '15001',
      '--inbound-port',
      '15006',
      '--usersid',
      'system',
      '--exclude-port',
      '15020',
      '--exclude-ip',
      '169.254.169.254',
      '--dry-run',
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      ResourceType: 'Policy',
      RequestType: 'Add',
      Settings: {
        Policies: [
          {
            Type: 'L4WFPPROXY',
            Settings: {
              InboundProxyPort: '15006',
              OutboundProxyPort: '15001',
              FilterTuple: { Protocols: '6' },
              UserSID: 'S-1-5-18',
              InboundExceptions: { IpAddressExceptions: ['127.0.0.1'], PortExceptions: ['15020'] },
              OutboundExceptions: {
                IpAddressExceptions: ['127.0.0.1', '169.254.169.254'],
                PortExceptions: ['15020'],
              },
            },
          },
        ],
      },
    });
  });

  it.each([
    [['--port', '0'], /outbound\.port: 0 is not a port/],
    [['--port', '70000'], /outbound\.port: 70000 is not a port/],
    [['--port', '15001', '--usersid', 'S-1-banana'], /bypass\.userSid/],
    [['--port', '15001', '--protocol', 'udp'], /TCP only/],
    [['--port', '15001', '--localaddr', '10.0.0.1'], /--localaddr is not supported/],
    [[], /--port PORT/],
    [['--port', '15001', '--localports', '80'], /--localports filters inbound traffic.*add --inbound-port/],
    [['--inbound-port', '15006', '--remoteports', '443'], /--remoteports filters outbound traffic/],
    [['--inbound-port', '15006', '--exclude-ip', '10.0.0.1'], /--exclude-ip filters outbound traffic/],
    [['--port', '15001', '--outbound-port', '15002'], /give one of them/],
    [
      ['--port', '15001', '--priority', '70000'],
      /--priority "70000": expected a whole number from 0 to 65535/,
    ],
  ])('add refuses %j before any HNS call (exit 2)', async (flags, message) => {
    const r = await cli('hns', 'add', EP, ...flags);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('carries every filter through: port ranges, priorities up to 65535, local ports with inbound', async () => {
    const r = await cli(
      'hns',
      'add',
      EP,
      '--port',
      '15001',
      '--inbound-port',
      '15006',
      '--localports',
      '80',
      '--exclude-port',
      '8000-8003',
      '--priority',
      '65535',
      '--dry-run',
    );
    expect(r.code, r.stderr).toBe(0);
    const settings = JSON.parse(r.stdout).Settings.Policies.map((p: { Settings: unknown }) => p.Settings);
    expect(settings[0].FilterTuple).toMatchObject({ Priority: 65535, LocalPorts: '80' });
    expect(settings[0].InboundExceptions.PortExceptions).toEqual(['8000', '8001', '8002', '8003']);
  });

  it('refuses a malformed endpoint GUID (exit 2)', async () => {
    const r = await cli('hns', 'add', 'not-a-guid', '--port', '15001', '--dry-run');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not an HNS endpoint GUID/);
  });

  it('clear --dry-run works without HNS, and lookup explains an unreachable runtime (exit 1)', async () => {
    const clear = await cli('hns', 'clear', EP, '--dry-run', '--json');
    expect(clear.code).toBe(0);
    expect(JSON.parse(clear.stdout).request.RequestType).toBe('Remove');
    const lookup = await cli(
      'hns',
      'lookup',
      'ccaae3aba155',
      '--runtime-endpoint',
      'unix:///nonexistent/cri.sock',
    );
    expect(lookup.code).toBe(1);
    expect(lookup.stderr).toMatch(
      /no container runtime answered CRI.*nonexistent\/cri\.sock.*\[SWY_ERR_RUNTIME_UNAVAILABLE\]/s,
    );
  });
});

const reason = standInUnavailable();
describeRequiring(reason, 'switchyard hns against the stand-in library', () => {
  let library: string;
  let hooks: ReturnType<typeof standInHooks>;
  let stateDir: string;
  const seed = JSON.parse(
    readFileSync(join(repo, 'packages/driver-hns/test-fixtures/hns-state.json'), 'utf8'),
  );
  const conn = () => ['--hcn-library', library, '--state-dir', stateDir];

  beforeAll(() => {
    library = buildStandIn();
    hooks = standInHooks(library);
  });
  beforeEach(() => {
    hooks.seed(seed);
    stateDir = mkdtempSync(join(tmpdir(), 'swy-cli-hns-'));
  });
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  it('add, list and clear as hcnproxyctl does ("Removed N policies")', async () => {
    const add = await cli('hns', 'add', EP, '--port', '15001', '--usersid', 'S-1-5-32-556', ...conn());
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/Added policy "default"/);
    const list = await cli('hns', 'list', EP, '--json', ...conn());
    expect(JSON.parse(list.stdout).policies).toEqual([
      {
        Type: 'L4WFPPROXY',
        Settings: {
          OutboundProxyPort: '15001',
          FilterTuple: { Protocols: '6' },
          UserSID: 'S-1-5-32-556',
          OutboundExceptions: { IpAddressExceptions: ['127.0.0.1'] },
        },
      },
    ]);
    const clear = await cli('hns', 'clear', EP, ...conn());
    expect(clear.stdout).toBe('Removed 1 policy\n');
    expect((await cli('hns', 'list', EP, ...conn())).stdout).toMatch(/No L4WFPPROXY policies/);
  });

  it('makes no HNS call at all for invalid input', async () => {
    const before = hooks.calls();
    expect((await cli('hns', 'add', EP, '--port', '70000', ...conn())).code).toBe(2);
    expect((await cli('hns', 'add', EP, '--port', '15001', '--usersid', 'nobody', ...conn())).code).toBe(2);
    expect(hooks.calls()).toBe(before);
  });

  it('reports an unknown endpoint with exit 2', async () => {
    const r = await cli('hns', 'add', '00000000-0000-4000-8000-000000000000', '--port', '15001', ...conn());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/HNS has no endpoint/);
  });
});
