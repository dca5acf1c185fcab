import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { hboneCarrier } from '@switchyard/hbone';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type PolicyLab, startPolicyLab } from '../testing/policy-lab.js';

describePrivileged(
  'Istio policies from the API, enforced by the receiving data plane through real namespaces; explain agrees',
  () => {
    let lab: PolicyLab;
    const ask: PolicyLab['ask'] = (pod, port) => lab.ask(pod, port);
    const why: PolicyLab['why'] = (from, port) => lab.why(from, port);
    const ip: PolicyLab['ip'] = (pod) => lab.ip(pod);
    const put: PolicyLab['put'] = (kind, name, spec) => lab.put(kind, name, spec);
    const metrics = () => lab.metrics();

    beforeAll(async () => {
      lab = await startPolicyLab({ carrier: hboneCarrier, hbone: true });
      put('authorizationpolicies', 'allow-client', {
        selector: { matchLabels: { app: 'api' } },
        action: 'ALLOW',
        rules: [{ from: [{ source: { principals: ['cluster.local/ns/web/sa/client'] } }] }],
      });
      await lab.until(() => !why('web/evil', 8080).allowed);
    }, 60_000);

    afterAll(() => lab?.close(), 30_000);

    it('the principal the ALLOW policy names gets through over HBONE, and explain says which policy allowed it', async () => {
      expect(await ask('client', 8080)).toBe('api:8080');
      expect(why('web/client', 8080)).toMatchObject({ allowed: true, policy: 'web/allow-client' });
    });

    it('another principal is denied: zero bytes reach the app, the denial is counted, explain agrees', async () => {
      const before = lab.accepted.get(8080) ?? 0;
      for (let n = 0; n < 2; n++) expect(await ask('evil', 8080)).toBe('closed');
      expect(lab.accepted.get(8080) ?? 0).toBe(before);
      expect(await metrics()).toMatch(
        /switchyard_agent_policy_denials_total\{workload="web\/api",policy="no-allow-matched"\} 2/,
      );
      expect(why('web/evil', 8080)).toMatchObject({
        allowed: false,
        reason: 'no ALLOW policy matches (web/allow-client apply)',
      });
    });

    it('a DENY on a port refuses that port only, counted by the policy’s name; explain agrees', async () => {
      put('authorizationpolicies', 'deny-9090', {
        action: 'DENY',
        rules: [{ to: [{ operation: { ports: ['9090'] } }] }],
      });
      await expect.poll(() => why('web/client', 9090).allowed, { timeout: 2000 }).toBe(false);
      expect(await ask('client', 9090)).toBe('closed');
      expect(lab.accepted.get(9090) ?? 0).toBe(0);
      expect(await ask('client', 8080)).toBe('api:8080');
      expect(why('web/client', 9090)).toMatchObject({ allowed: false, policy: 'web/deny-9090' });
      expect(why('web/client', 8080)).toMatchObject({ allowed: true, policy: 'web/allow-client' });
      expect(await metrics()).toMatch(
        /switchyard_agent_policy_denials_total\{workload="web\/api",policy="web\/deny-9090"\} 1/,
      );
    });

    it('a policy removed: the peer it kept out gets through within 1 s of the delete', async () => {
      const removed = Date.now();
      lab.remove('authorizationpolicies', 'allow-client');
      let line = '';
      while (Date.now() - removed < 1000 && line !== 'api:8080') {
        line = await ask('evil', 8080);
        if (line !== 'api:8080') await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(line).toBe('api:8080');
      expect(Date.now() - removed).toBeLessThan(1000);
      expect(why('web/evil', 8080)).toMatchObject({ allowed: true });
      lab.remove('authorizationpolicies', 'deny-9090');
    });

    it('PERMISSIVE lets a plain-TCP client from outside the mesh through on a captured port; STRICT refuses it; explain agrees', async () => {
      // The agent's default here is STRICT: without a PeerAuthentication, plain TCP is refused.
      expect(await ask('outsider', 8080)).toBe('closed');
      expect(why(ip('outsider'), 8080)).toMatchObject({
        allowed: false,
        policy: 'istio-system/(default STRICT)',
      });
      put('peerauthentications', 'mtls', { mtls: { mode: 'PERMISSIVE' } });
      await expect.poll(() => why(ip('outsider'), 8080).allowed, { timeout: 2000 }).toBe(true);
      const before = lab.accepted.get(8080) ?? 0;
      expect(await ask('outsider', 8080)).toBe('api:8080');
      expect(lab.accepted.get(8080)).toBe(before + 1);
      put('peerauthentications', 'mtls', { mtls: { mode: 'STRICT' } });
      await expect.poll(() => why(ip('outsider'), 8080).allowed, { timeout: 2000 }).toBe(false);
      expect(await ask('outsider', 8080)).toBe('closed');
      expect(lab.accepted.get(8080)).toBe(before + 1);
      expect(why(ip('outsider'), 8080)).toMatchObject({ allowed: false, policy: 'web/mtls' });
      expect(why(ip('outsider'), 8080).from.peer).toBeUndefined();
      // Mesh peers are not plain TCP: STRICT lets them through.
      expect(await ask('client', 8080)).toBe('api:8080');
      expect(await metrics()).toMatch(
        /switchyard_agent_policy_denials_total\{workload="web\/api",policy="web\/mtls"\} 1/,
      );
    });
  },
);
