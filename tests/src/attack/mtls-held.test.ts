import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AttackLab, startAttackLab } from './attack-lab.js';
import { ATTACK_TEST_TIMEOUT_MS } from './attack-lock.js';
import { expectHeld, HOLD_SECONDS, holdBeside } from './held.js';
import { APP_PORT } from './lab-app.js';
import { sample } from './report.js';

/** A non-default admin port: the proxy must know it is its own whatever its number. */
const ADMIN_PORT = 15990;

// `switchyard proxy mtls` started through the CLI (admin on a port of its own choosing), on each
// engine, each attack held for 10 s by python's ssl or hand-written records from a second
// namespace while Go's crypto/tls keeps an established connection pinged every 100 ms and opens a
// new one every 500 ms; the same peer's control run, alone, comes first in every test.
describePrivileged('switchyard proxy mtls, attacks held for seconds', () => {
  describe.each(['js', 'native'] as const)('--engine %s', (engine) => {
    let lab: AttackLab;
    const failures = async (reason: string) =>
      sample(await lab.metrics(), 'switchyard_tls_failures_total', `reason="${reason}"`);
    beforeAll(async () => {
      lab = await startAttackLab('mtls', async () => undefined, {
        adminPort: ADMIN_PORT,
        engine,
        light: true,
      });
    }, 120_000);
    afterAll(async () => {
      await lab?.close();
    });

    it('an authorized peer never reaches the admin port, whatever its number', async () => {
      // The admin endpoints answer on that port, inside the workload's namespace.
      expect(await lab.metrics()).toContain('switchyard_');
      const admin = await lab.python('tcp', 'ask', lab.lab.b.v4, `${ADMIN_PORT}`, lab.certs.peer);
      expect(admin).toMatchObject({ answered: 0 });
      // The same request to the app is carried (the echo app sends it back).
      const app = await lab.python('tcp', 'ask', lab.lab.b.v4, `${APP_PORT}`, lab.certs.peer);
      expect(app).toMatchObject({ head: expect.stringContaining('GET /metrics') });
    }, 60_000);

    it(
      'handshakes abandoned with a FIN from 20 sources free their slots at once',
      async () => {
        const timeouts = await failures('timeout');
        const sources = lab.sources(20).join(',');
        const held = await holdBeside(lab, () =>
          lab.python(
            'tcp',
            'hello-churn',
            ...[lab.target.host, `${lab.target.port}`],
            `${HOLD_SECONDS}`,
            '200000',
            sources,
          ),
        );
        expectHeld(lab, `mtls --engine ${engine}: ClientHello then FIN, 20 sources`, held);
        const sent = (held.result as { sent: number }).sent;
        expect(sent).toBeGreaterThan(1_000);
        // Each abandoned handshake is noticed on its FIN: (almost) none waits for the 5 s timeout.
        expect((await failures('timeout')) - timeouts).toBeLessThan(sent / 100);
      },
      ATTACK_TEST_TIMEOUT_MS,
    );

    it('a FIN without close_notify reaches the app as a reset, never a clean end', async () => {
      const before = lab.appEnds();
      const out = await lab.python(
        'tcp',
        'truncate',
        lab.lab.b.v4,
        `${APP_PORT}`,
        lab.certs.peer,
        `${64 * 1024}`,
      );
      expect(out).toMatchObject({ sent: 64 * 1024 });
      await expect.poll(() => lab.appEnds().reset - before.reset).toBe(1);
      expect(lab.appEnds().clean - before.clean).toBe(0);
    }, 60_000);
  });
});
