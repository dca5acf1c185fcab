import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryDriver } from '@switchyard/core/memory';
import { HboneClient } from '@switchyard/hbone';
import { CertificateStore } from '@switchyard/mesh';
import { freePort } from '@switchyard/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin } from './testing/run-bin.js';
import { cli } from './testing/run-cli.js';
import { issueTestCerts } from './testing/test-certs.js';

// `proxy hbone --carrier NAME`: an HBONE carrier from the data plane's carrier registry (an unknown
// name: proxy-flags.test.ts, for both proxies).
let scratch: string;
let certs: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'swy-proxy-hbone-carrier-'));
  certs = await issueTestCerts(scratch);
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

const hbone = (...more: string[]) => [
  'proxy',
  'hbone',
  '--cert-dir',
  certs,
  '--driver',
  'memory',
  '--no-admin',
  ...more,
];

describe('proxy hbone --carrier', () => {
  it('refuses a carrier that does not speak HBONE (exit 2), naming those that do', async () => {
    const r = await cli(...hbone('--carrier', 'mtls'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^switchyard: --carrier mtls: "mtls" does not carry HBONE \(it opens no HBONE listener\); give one of "hbone", "hbone-native", or run "switchyard proxy mtls --carrier mtls" \[SWY_ERR_INPUT_INVALID\]\n$/,
    );
  });

  it('refuses the SNI gateway and reverse tunnels on hbone-native (exit 2): they run on hbone', async () => {
    const sni = await cli(...hbone('--carrier', 'hbone-native', '--sni-gateway'));
    expect(sni.code).toBe(2);
    expect(sni.stderr).toMatch(
      /--carrier hbone-native serves no --sni-gateway .*use --carrier hbone \[SWY_ERR_INPUT_INVALID\]/,
    );
    const reverse = await cli(...hbone('--carrier', 'hbone-native', '--reverse-gateway', '10.0.0.1:15009'));
    expect(reverse.code).toBe(2);
    expect(reverse.stderr).toMatch(/serves no --reverse-gateway/);
  });

  it('says hbone-native cannot run where the engine does not load (exit 1), before anything listens', async () => {
    const r = await runBin(hbone('--carrier', 'hbone-native', '--hbone-port', String(await freePort())), {
      env: { SWITCHYARD_RELAY_NATIVE_BUILD: 'none' },
      timeoutMs: 10_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^switchyard: --carrier hbone-native: .*names no build of the native relay engine.*; or use --carrier hbone \[SWY_ERR_UNSUPPORTED_PLATFORM\]\n$/,
    );
  });

  it('serves HBONE on the engine: a JavaScript HBONE client tunnels to the app through it, the carrier logged', async () => {
    const app: Server = createServer((s) => s.pipe(s)); // echo
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const appPort = (app.address() as { port: number }).port;
    const hbonePort = await freePort();
    const sidecar = runBin(
      hbone(
        '--carrier',
        'hbone-native',
        '--hbone-port',
        String(hbonePort),
        '--access-log',
        '--outbound-port',
        String(await freePort()),
        '--inbound-port',
        String(await freePort()),
      ),
      { timeoutMs: 20_000, stopWhen: /"direction":"inbound","outcome":"spliced"/ },
    );
    const certificates = await CertificateStore.open(certs, { watch: false });
    const client = new HboneClient({
      socketOps: memoryDriver().socketOps,
      certificates,
      identityFallback: 'trust-domain',
    });
    try {
      const sent = 'through hbone-native';
      let got = '';
      for (let tries = 0; tries < 50 && got === ''; tries++) {
        await new Promise((r) => setTimeout(r, 100));
        got = await client
          .connect({
            destination: { address: '127.0.0.1', port: appPort },
            peer: { address: '127.0.0.1', port: hbonePort },
          })
          .then(
            (tunnel) =>
              new Promise<string>((resolve) => {
                let text = '';
                tunnel.on('data', (d) => (text += d));
                tunnel.on('error', () => resolve(text));
                tunnel.on('end', () => resolve(text));
                tunnel.end(sent);
              }),
          )
          .catch(() => '');
      }
      expect(got).toBe(sent);
      const r = await sidecar;
      const line = r.stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.direction === 'inbound' && l.outcome === 'spliced');
      expect(line).toMatchObject({ carrier: 'hbone-native', peer: 'spiffe://cluster.local/ns/web/sa/api' });
      expect(r.code).toBe(0);
    } finally {
      client.close();
      certificates.close();
      app.close();
      await sidecar;
    }
  }, 30_000);
});
