import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bin } from '../testing/cli-bin.js';
import { type AttackLab, type AttackLabOptions, startAttackLab } from './attack-lab.js';
import { ATTACK_TEST_TIMEOUT_MS, oneAttackAtATime } from './attack-lock.js';
import { HOLD_SECONDS } from './held.js';
import { sample } from './report.js';

const run = promisify(execFile);

/** The port the workload's client dials on both destinations (for HBONE, its tunnels' target). */
const ECHO_PORT = 7777;

interface Proxy {
  name: string;
  kind: 'mtls' | 'hbone';
  options: AttackLabOptions;
}

const PROXIES: Proxy[] = [
  { name: 'proxy hbone', kind: 'hbone', options: {} },
  { name: 'proxy hbone --carrier hbone-native', kind: 'hbone', options: { carrier: 'hbone-native' } },
  { name: 'proxy mtls', kind: 'mtls', options: {} },
  { name: 'proxy mtls --engine native', kind: 'mtls', options: { engine: 'native' } },
];

// A hostile upstream that floods TLS 1.3 KeyUpdates (OpenSSL's own s_server, fed `k` commands as
// fast as it reads them) on every connection the proxy's outbound side opens to it, beside a
// legitimate upstream (Go's net/http for HBONE, python's ssl for mTLS). The proxy is started
// through the CLI with outbound capture (`redirect apply --outbound-port`); a client in the
// workload's namespace dials both destinations for 10 s. Each hostile connection is reset and
// counted; every connection to the legitimate destination is echoed.
for (const proxy of PROXIES)
  describePrivileged(`switchyard ${proxy.name}: an upstream that floods KeyUpdates`, () => {
    let lab: AttackLab;
    let legitAddress: string;
    let upstreamCert: string;
    const stops: (() => void)[] = [];
    beforeAll(async () => {
      lab = await startAttackLab(proxy.kind, async () => undefined, {
        ...proxy.options,
        light: true,
        proxyArgs: (l) => [
          ...(proxy.kind === 'mtls' ? ['--outbound-port'] : []),
          '--mesh-cidr',
          `${l.a.v4.replace(/\.1$/, '.0')}/24`,
        ],
      });
      await run(process.execPath, [bin, 'redirect', 'apply', '--netns', lab.lab.b.name, '--outbound-port']);
      [legitAddress] = lab.sources(1) as [string];
      upstreamCert = await lab.pki.issue('upstream', 'web');
      if (proxy.kind === 'hbone') stops.push(await lab.goServer(upstreamCert, `${legitAddress}:15008`));
    }, 180_000);
    afterAll(async () => {
      for (const stop of stops) stop();
      await lab?.close();
    });

    it(
      'each hostile connection is reset and counted; the other destination is served',
      async () => {
        const floods = async () =>
          sample(
            await lab.metrics(),
            'switchyard_tls_floods_total',
            'reason="key-updates"',
            'direction="outbound"',
          );
        const before = await floods();
        const hostile = lab.lab.a.v4;
        const port = proxy.kind === 'hbone' ? 15008 : ECHO_PORT;
        const c = upstreamCert;
        const stopHostile = lab.shell(
          `yes k | openssl s_server -accept ${hostile}:${port} -tls1_3 -cert ${c}/cert-chain.pem ` +
            `-key ${c}/key.pem -CAfile ${c}/root-cert.pem -Verify 1 -alpn h2 >/dev/null 2>&1`,
        );
        const legitUpstream =
          proxy.kind === 'hbone'
            ? lab.upstream('a', 'echo', legitAddress, `${ECHO_PORT}`, `${HOLD_SECONDS + 2}`)
            : lab.upstream('a', 'tls-echo', c, legitAddress, `${ECHO_PORT}`, `${HOLD_SECONDS + 2}`);
        const [, hostileDials, legit] = await oneAttackAtATime(() =>
          Promise.all([
            legitUpstream,
            delayed(() => lab.upstream('b', 'dial', hostile, `${ECHO_PORT}`, `${HOLD_SECONDS}`)),
            delayed(() => lab.upstream('b', 'dial', legitAddress, `${ECHO_PORT}`, `${HOLD_SECONDS}`)),
          ]).finally(stopHostile),
        );
        const counted = (await floods()) - before;
        console.log(
          `${proxy.name}, upstream KeyUpdate flood: ${counted} connections reset and counted; the hostile ` +
            `destination's clients ${JSON.stringify(hostileDials)}; the legitimate destination's ${JSON.stringify(legit)}`,
        );
        expect(counted).toBeGreaterThan(0);
        expect(hostileDials.ok).toBe(0);
        expect(legit.errors).toEqual({});
        expect(legit.tried as number).toBeGreaterThan(50);
        expect(legit.ok).toBe(legit.tried);
      },
      ATTACK_TEST_TIMEOUT_MS,
    );
  });

/** Starts `f` once the listeners of the same attack are up. */
async function delayed<T>(f: () => Promise<T>): Promise<T> {
  await new Promise((r) => setTimeout(r, 1_000));
  return f();
}
