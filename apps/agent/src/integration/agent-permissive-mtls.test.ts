import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { CERT_FILES } from '@switchyard/mesh';
import { mtlsCarrier } from '@switchyard/mtls-proxy';
import { mtlsNativeCarrier } from '@switchyard/relay-native/carrier';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type LabPod, type PolicyLab, startPolicyLab } from '../testing/policy-lab.js';

/**
 * A TLS client run by openssl in `pod`'s namespace against api:port, its certificate from
 * `certDir` (none: no client certificate). What it read back, once it ended (10 s at most).
 */
function opensslClient(lab: PolicyLab, pod: LabPod, port: number, certDir?: string): Promise<string> {
  const cert = certDir
    ? ['-cert', join(certDir, CERT_FILES.chain), '-key', join(certDir, CERT_FILES.key)]
    : [];
  const args = ['netns', 'exec', lab.netns(pod), 'openssl', 's_client', '-quiet', '-tls1_3'];
  const child = spawn('ip', [...args, '-connect', `${lab.ip('api')}:${port}`, ...cert], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  return new Promise((resolve) => {
    let out = '';
    const timer = setTimeout(() => child.kill(), 10_000);
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.once('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    child.stdin.write('hello\n');
  });
}

for (const [name, carrier] of [
  ['mtls', mtlsCarrier],
  ['mtls-native', () => mtlsNativeCarrier()],
] as const)
  describePrivileged(
    `PeerAuthentication PERMISSIVE on the ${name} carrier: plain TCP from outside the mesh on the captured port, TLS as always (real namespaces)`,
    () => {
      let lab: PolicyLab;
      const count = () => lab.accepted.get(8080) ?? 0;

      beforeAll(async () => {
        lab = await startPolicyLab({ carrier });
        // A principal denied whatever the mode: were its TLS taken for plain TCP, it would get through.
        lab.put('authorizationpolicies', 'deny-evil', {
          action: 'DENY',
          rules: [{ from: [{ source: { principals: ['cluster.local/ns/web/sa/evil'] } }] }],
        });
        await lab.until(() => !lab.why('web/evil', 8080).allowed);
      }, 60_000);

      afterAll(() => lab?.close(), 30_000);

      it('STRICT (the default): plain TCP is refused before the app; mesh peers get through over TLS', async () => {
        const before = count();
        expect(await lab.ask('outsider', 8080)).toBe('closed');
        expect(count()).toBe(before);
        expect(await lab.ask('client', 8080)).toBe('api:8080');
        expect(await lab.ask('evil', 8080)).toBe('closed');
        expect(count()).toBe(before + 1);
      });

      it('PERMISSIVE: a plain client from outside the mesh reaches the app; mesh peers still arrive with their identity', async () => {
        lab.put('peerauthentications', 'mtls', { mtls: { mode: 'PERMISSIVE' } });
        await expect.poll(() => lab.why(lab.ip('outsider'), 8080).allowed, { timeout: 2000 }).toBe(true);
        const before = count();
        // A client that speaks first is told from TLS by its first byte, and the app gets every byte...
        expect(await lab.ask('outsider', 8080, 'plain-hello\n')).toBe('api:8080');
        await lab.until(() => lab.received.get(8080)?.includes('plain-hello\n') === true);
        // ...one that waits for the server (this app speaks first) is plain once the handshake timeout (2 s here) passes.
        expect(await lab.ask('outsider', 8080)).toBe('api:8080');
        expect(await lab.ask('client', 8080)).toBe('api:8080');
        // evil's TLS is still TLS: its principal is denied, nothing reaches the app.
        expect(await lab.ask('evil', 8080)).toBe('closed');
        expect(count()).toBe(before + 3);
        expect(await lab.metrics()).toMatch(
          /switchyard_agent_policy_denials_total\{workload="web\/api",policy="web\/deny-evil"\} 2/,
        );
      });

      it('PERMISSIVE: a TLS client that fails the handshake is refused, never taken as plain TCP (openssl)', async () => {
        const before = count();
        // A certificate from another trust domain's CA, then no certificate at all.
        const untrusted = await lab.pki.issue('stranger', 'web', 'stranger', 'other');
        expect(await opensslClient(lab, 'outsider', 8080, untrusted)).not.toContain('api:8080');
        expect(await opensslClient(lab, 'outsider', 8080)).not.toContain('api:8080');
        expect(count()).toBe(before);
        // A mesh certificate through the same path does get through: the refusals above are the TLS failures.
        const trusted = await lab.pki.issue('visitor', 'web', 'visitor');
        expect(await opensslClient(lab, 'outsider', 8080, trusted)).toContain('api:8080');
        expect(count()).toBe(before + 1);
      });

      it('PERMISSIVE on another port only (portLevelMtls): plain TCP gets through there and nowhere else', async () => {
        lab.put('peerauthentications', 'mtls', {
          selector: { matchLabels: { app: 'api' } },
          mtls: { mode: 'STRICT' },
          portLevelMtls: { '9090': { mode: 'PERMISSIVE' } },
        });
        await expect.poll(() => lab.why(lab.ip('outsider'), 8080).allowed, { timeout: 2000 }).toBe(false);
        expect(await lab.ask('outsider', 9090, 'hello\n')).toBe('api:9090');
        const before = count();
        expect(await lab.ask('outsider', 8080, 'hello\n')).toBe('closed');
        expect(count()).toBe(before);
        expect(await lab.ask('client', 8080)).toBe('api:8080');
      });
    },
  );
