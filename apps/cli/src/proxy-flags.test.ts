import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CARRIER_API_VERSION } from '@switchyard/dataplane/carrier';
import { freePort } from '@switchyard/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from './testing/run-bin.js';
import { cli } from './testing/run-cli.js';
import { issueTestCerts } from './testing/test-certs.js';

let scratch: string;
let certs: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'swy-proxy-flags-'));
  certs = await issueTestCerts(scratch);
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const loopbackPorts = async () => [
  '--inbound-port',
  String(await freePort()),
  '--outbound-port',
  String(await freePort()),
];

describe('proxy flags are checked before anything listens', () => {
  it.each([
    ['mtls', ['--admin-port', 'abc'], /--admin-port "abc"/],
    ['mtls', ['--admin-host', 'everywhere'], /--admin-host "everywhere"/],
    ['mtls', ['--max-connections', '0'], /--max-connections "0"/],
    ['hbone', ['--drain-seconds', 'abc'], /--drain-seconds "abc"/],
    ['hbone', ['--sni-gateway', 'x'], /--sni-gateway "x"/],
    ['hbone', ['--admin-port', '99999'], /--admin-port "99999"/],
    ['mtls', ['--outbound-port', '0'], /--outbound-port "0"/],
  ])('proxy %s %j exits 2 at once, naming the flag', async (proxy, flags, message) => {
    const r = await runBin(
      ['proxy', proxy, '--cert-dir', certs, '--driver', 'memory', ...(await loopbackPorts()), ...flags],
      { timeoutMs: 10_000 },
    );
    expect(r.signal, 'the proxy kept running after reporting bad input').toBeNull();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it.each([
    [
      ['--outbound-port', '--plaintext-port', '8080'],
      /--plaintext-port applies to inbound connections.*add --inbound-port/,
    ],
    [['--inbound-port', '--mesh-cidr', '10.0.0.0/8'], /--mesh-cidr applies to outbound connections/],
  ])('refuses a flag for a direction it does not serve: %j', async (flags, message) => {
    const r = await cli('proxy', 'mtls', '--cert-dir', certs, '--driver', 'memory', ...flags);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('takes --cert-dir from SWITCHYARD_CERT_DIR', async () => {
    const r = await runBin(['proxy', 'mtls', '--driver', 'memory', '--admin-port', 'abc'], {
      env: { SWITCHYARD_CERT_DIR: certs },
      timeoutMs: 10_000,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--admin-port "abc"/);
  });

  it('stops what it started and exits 1 when a later part cannot start (admin port taken)', async () => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const adminPort = String((taken.address() as { port: number }).port);
    try {
      for (const proxy of ['mtls', 'hbone']) {
        // The other ports are free ones picked a moment before: a test file running beside this one
        // may take one meanwhile (then the proxy fails on that port, not the admin's): pick again.
        const start = async () => {
          const extra = proxy === 'hbone' ? ['--hbone-port', String(await freePort())] : [];
          return runBin(
            [
              'proxy',
              proxy,
              '--cert-dir',
              certs,
              '--driver',
              'memory',
              ...(await loopbackPorts()),
              ...extra,
              '--admin-port',
              adminPort,
              '--admin-host',
              '127.0.0.1',
            ],
            { timeoutMs: 10_000 },
          );
        };
        let r = await start();
        for (let i = 0; i < 3 && /listen EADDRINUSE/.test(r.stderr) && !/admin server/.test(r.stderr); i++)
          r = await start();
        expect(r.signal, `proxy ${proxy} kept running after its admin server failed`).toBeNull();
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(
          /admin server could not start: .*EADDRINUSE.*\[SWY_ERR_WORKLOAD_FAILED\]\n$/,
        );
        expect(r.stderr.match(/EADDRINUSE/g), r.stderr).toHaveLength(1);
      }
    } finally {
      taken.close();
    }
  });

  it.each([
    ['mtls', '--inbound-port'],
    ['hbone', '--hbone-port'],
  ])('proxy %s with %s taken says so once, as its last line, and exits 1', async (proxy, flag) => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '0.0.0.0', r));
    const port = String((taken.address() as { port: number }).port);
    try {
      const others =
        proxy === 'hbone'
          ? ['--outbound-port', String(await freePort()), '--inbound-port', String(await freePort())]
          : ['--outbound-port', String(await freePort())];
      const r = await runBin(
        ['proxy', proxy, '--cert-dir', certs, '--driver', 'memory', '--no-admin', ...others, flag, port],
        { timeoutMs: 10_000 },
      );
      expect(r.signal, `proxy ${proxy} kept running after its port was refused`).toBeNull();
      expect(r.code).toBe(1);
      // One line, the last: no JSON log line repeating it before.
      expect(r.stderr.match(/already in use/g), r.stderr).toHaveLength(1);
      expect(r.stderr.endsWith('\n')).toBe(true);
      expect(r.stderr.trimEnd().split('\n').at(-1)).toMatch(
        new RegExp(
          `^switchyard: workload sidecar: .*already in use.*:${port}\\b.*\\[SWY_ERR_WORKLOAD_FAILED\\]$`,
        ),
      );
    } finally {
      taken.close();
    }
  });
});

describe('proxy mtls --engine', () => {
  it('refuses an engine that does not exist (exit 2), naming the choices', async () => {
    const r = await cli('proxy', 'mtls', '--cert-dir', certs, '--driver', 'memory', '--engine', 'rust');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--engine "rust": expected "js" or "native" \[SWY_ERR_INPUT_INVALID\]/);
  });

  it('exits 1 with a code and no stack, before listening, when the native engine cannot load', async () => {
    const r = await runBin(
      ['proxy', 'mtls', '--cert-dir', certs, '--driver', 'memory', '--engine', 'native', '--no-admin'],
      { env: { SWITCHYARD_RELAY_NATIVE_BUILD: 'none' }, timeoutMs: 10_000 },
    );
    expect(r.signal, 'the proxy kept running after the engine failed to load').toBeNull();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^switchyard: --engine native: SWITCHYARD_RELAY_NATIVE_BUILD="none" names no build of the native relay engine.*or use --engine js \[SWY_ERR_UNSUPPORTED_PLATFORM\]\n$/,
    );
    expect(r.stderr).not.toMatch(/started/);
  });

  it('runs the sidecar on the native engine where it loads, and drains on SIGTERM', async () => {
    const r = await runBin(
      [
        'proxy',
        'mtls',
        '--cert-dir',
        certs,
        '--driver',
        'memory',
        '--engine',
        'native',
        '--no-admin',
        ...(await loopbackPorts()),
      ],
      { timeoutMs: 10_000, stopWhen: /mtls sidecar started/ },
    );
    expect(r.stderr, JSON.stringify(r)).toMatch(/"msg":"mtls sidecar started"/);
    expect(r.stderr, JSON.stringify(r)).toMatch(/"msg":"SIGTERM received; draining/);
    expect(r.stderr).toMatch(/"msg":"SIGTERM received; draining/);
    expect(r.code).toBe(0);
  });
});

describe('proxy mtls carries traffic on either engine', () => {
  /** A sidecar process on the port-map test driver: `map` says where each arrival port "was going". */
  const sidecar = (engine: string, map: Record<number, string>, flags: string[], stopWhen: RegExp) =>
    runBin(
      [
        '--driver-module',
        './apps/cli/test-fixtures/port-map-driver.mjs',
        '--driver-option',
        `map=${JSON.stringify(map)}`,
        'proxy',
        'mtls',
        '--driver',
        'port-map',
        '--cert-dir',
        certs,
        '--engine',
        engine,
        '--no-admin',
        '--access-log',
        ...flags,
      ],
      { timeoutMs: 20_000, stopWhen },
    );

  /** One exchange through the client sidecar; '' until both sidecars are up. */
  const exchange = (port: number, text: string) =>
    new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1');
      let got = '';
      s.on('error', () => resolve(''));
      s.on('connect', () => s.end(text));
      s.on('data', (d) => {
        got += d;
      });
      s.on('close', () => resolve(got));
    });

  it.each(['js', 'native'])(
    '--engine %s: plain in → mTLS → plain out between two sidecars, bytes intact, the peer identity logged',
    async (engine) => {
      const app: Server = createServer((s) => s.pipe(s)); // echo
      await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
      const appPort = (app.address() as { port: number }).port;
      const [inbound, outbound] = [await freePort(), await freePort()];
      const server = sidecar(
        engine,
        { [inbound]: `127.0.0.1:${appPort}` },
        ['--inbound-port', String(inbound)],
        /"direction":"inbound","outcome":"spliced"/,
      );
      const client = sidecar(
        engine,
        { [outbound]: `127.0.0.1:${inbound}` },
        ['--outbound-port', String(outbound), '--mesh-cidr', '127.0.0.0/8'],
        /"direction":"outbound","outcome":"spliced"/,
      );
      try {
        const sent = `through the ${engine} engine`;
        let got = '';
        for (let tries = 0; tries < 50 && got === ''; tries++) {
          await new Promise((r) => setTimeout(r, 100));
          got = await exchange(outbound, sent);
        }
        expect(got).toBe(sent);
        const [s, c] = await Promise.all([server, client]);
        const logged = (out: string, direction: string) =>
          out
            .split('\n')
            .filter((l) => l.startsWith('{'))
            .map((l) => JSON.parse(l) as Record<string, unknown>)
            .find((l) => l.direction === direction && l.outcome === 'spliced');
        const carrier = engine === 'native' ? 'mtls-native' : 'mtls';
        const peer = 'spiffe://cluster.local/ns/web/sa/api';
        expect(logged(s.stderr, 'inbound')).toMatchObject({ carrier, peer });
        expect(logged(c.stderr, 'outbound')).toMatchObject({ carrier, peer });
        expect([s.code, c.code]).toEqual([0, 0]);
      } finally {
        app.close();
        await Promise.all([server, client]);
      }
    },
    30_000,
  );
});

// `proxy mtls --carrier NAME`: the carrier comes from the data plane's carrier registry, built in
// or loaded by --carrier-module; --engine stays as its alias.
let module: string;
beforeAll(async () => {
  // A third-party carrier as its own file, importing nothing of Switchyard: when the data plane
  // creates it for the sidecar's workload it writes that workload's labels to a file beside it.
  module = join(scratch, 'acme-carrier.mjs');
  await writeFile(
    module,
    `import { writeFileSync } from 'node:fs';
export default {
  name: 'acme',
  apiVersion: ${CARRIER_API_VERSION},
  description: 'a third-party test carrier',
  create: () => ({
    name: 'acme',
    create(context) {
      writeFileSync(${JSON.stringify(join(scratch, 'acme-created'))}, JSON.stringify(context.labels));
      return { async outbound(c) { c.socket.destroy(); }, drain() {}, async close() {} };
    },
  }),
};
`,
  );
});

const proxy = ['proxy', 'mtls', '--cert-dir', 'CERTS', '--driver', 'memory', '--no-admin'];
const args = (...more: string[]) => [...proxy.map((a) => (a === 'CERTS' ? certs : a)), ...more];

describe('proxy mtls --carrier', () => {
  it.each(['mtls', 'hbone'])(
    'proxy %s names the carriers there are when the name is unknown (exit 2)',
    async (which) => {
      const r = await cli(...args('--carrier', 'udp').map((a) => (a === 'mtls' ? which : a)));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /no carrier named "udp"; known carriers are "hbone", "hbone-native", "mtls", "mtls-native" \[SWY_ERR_CARRIER_NOT_FOUND\]/,
      );
    },
  );

  it('refuses --engine and --carrier naming different carriers; the same one twice is fine', async () => {
    const r = await cli(...args('--carrier', 'mtls-native', '--engine', 'js'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--engine js names the mtls carrier and --carrier "mtls-native" another; give one of them/,
    );
    const same = await runBin(
      args('--carrier', 'mtls-native', '--engine', 'native', '--outbound-port', String(await freePort())),
      { env: { SWITCHYARD_RELAY_NATIVE_BUILD: 'none' }, timeoutMs: 10_000 },
    );
    expect(same.stderr).toMatch(
      /^switchyard: --carrier mtls-native: .*or use --carrier mtls \[SWY_ERR_UNSUPPORTED_PLATFORM\]\n$/,
    );
  });

  it('runs the sidecar on a third-party carrier a --carrier-module loads', async () => {
    const r = await runBin(
      [
        '--carrier-module',
        module,
        ...args(
          '--carrier',
          'acme',
          '--outbound-port',
          String(await freePort()),
          '--mesh-cidr',
          '10.0.0.0/8',
        ),
      ],
      { timeoutMs: 10_000, stopWhen: /mtls sidecar started/ },
    );
    expect(r.stderr, JSON.stringify(r)).toMatch(/"msg":"mtls sidecar started"/);
    expect(r.code).toBe(0);
    const created = join(scratch, 'acme-created');
    expect(existsSync(created), 'the data plane never created the acme carrier').toBe(true);
    expect(JSON.parse(readFileSync(created, 'utf8'))).toMatchObject({ carrier: 'acme' });
  });

  it('says what is wrong with a --carrier-module that is not a carrier or is not there', async () => {
    const missing = await cli('--carrier-module', join(scratch, 'nope.mjs'), ...args('--carrier', 'acme'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--carrier-module .*nope\.mjs: nothing at .*\[SWY_ERR_INPUT_INVALID\]/);
    await writeFile(join(scratch, 'not-a-carrier.mjs'), 'export const x = 1;\n');
    const wrong = await cli(
      '--carrier-module',
      join(scratch, 'not-a-carrier.mjs'),
      ...args('--carrier', 'acme'),
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/exports no carrier definition.*\[SWY_ERR_CARRIER_LOAD\]/);
  });
});
