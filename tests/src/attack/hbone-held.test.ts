import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectAdminPortRefused } from './admin-port.js';
import { type AttackLab, startAttackLab } from './attack-lab.js';
import { ATTACK_TEST_TIMEOUT_MS } from './attack-lock.js';
import { expectHeld, HOLD_SECONDS, holdBeside } from './held.js';
import { sample } from './report.js';

/** A non-default admin port: the proxy must know it is its own whatever its number. */
const ADMIN_PORT = 15990;
/**
 * Frames one WINDOW_UPDATE flooding connection may write before it sees its end: the budget
 * (256 KiB of non-DATA bytes, 13 bytes a frame), one hand-over of 8 records checked as it reaches
 * TLS, and what the socket buffers on both sides took meanwhile; polled, a connection wrote
 * millions in its 1–2 s.
 */
const MOST_WINDOW_FRAMES_PER_CONNECTION = 400_000;

// `switchyard proxy hbone` started through the CLI (admin on a port of its own choosing), each
// attack held for 10 s by python3-h2 or python's ssl from a second namespace, while Go's
// net/http keeps an established tunnel pinged every 100 ms and opens a new tunnel every 500 ms;
// the same peer's control run, alone, comes first in every test.
describePrivileged('switchyard proxy hbone, attacks held for seconds', () => {
  let lab: AttackLab;
  const failures = async (reason: string) =>
    sample(await lab.metrics(), 'switchyard_tls_failures_total', `reason="${reason}"`);
  const resets = async (reason: string) =>
    sample(await lab.metrics(), 'switchyard_hbone_stream_resets_total', `reason="${reason}"`);
  const refusals = async () =>
    sample(await lab.metrics(), 'switchyard_refusals_total', 'reason="abuse-penalty"');
  /** python3-h2 against the HBONE port with an allowed peer's certificate. */
  const h2Attack = (...args: string[]) =>
    lab.python('hbone', lab.target.host, `${lab.target.port}`, lab.certs.peer, lab.authority, ...args);
  beforeAll(async () => {
    lab = await startAttackLab('hbone', async () => undefined, { adminPort: ADMIN_PORT, light: true });
  }, 120_000);
  afterAll(async () => {
    await lab?.close();
  });

  it('a tunnel to the admin port gets 503, whatever its number', async () => {
    await expectAdminPortRefused(lab, ADMIN_PORT);
  }, 60_000);

  it(
    'handshakes abandoned with a FIN from 20 sources free their slots at once',
    async () => {
      const [timeouts, closed] = [await failures('timeout'), await failures('closed')];
      const sources = lab.sources(20).join(',');
      const held = await holdBeside(lab, () =>
        lab.python(
          'tcp',
          'hello-churn',
          lab.target.host,
          `${lab.target.port}`,
          `${HOLD_SECONDS}`,
          '200000',
          sources,
        ),
      );
      expectHeld(lab, 'hbone: ClientHello then FIN, 20 sources', held);
      const sent = (held.result as { sent: number }).sent;
      expect(sent).toBeGreaterThan(1_000);
      expect(await failures('closed')).toBeGreaterThan(closed);
      // Each abandoned handshake is noticed on its FIN: (almost) none waits for the 5 s timeout.
      expect((await failures('timeout')) - timeouts).toBeLessThan(sent / 100);
    },
    ATTACK_TEST_TIMEOUT_MS,
  );

  it(
    'rapid reset from a reconnecting attacker costs the app no dial, and its source is slowed',
    async () => {
      const [goaways, penalized, dials] = [
        await resets('rapid-reset-goaway'),
        await refusals(),
        lab.appConnections(),
      ];
      const held = await holdBeside(lab, () => h2Attack('rapid-reset-loop', '500', `${HOLD_SECONDS}`));
      expectHeld(lab, 'hbone: rapid reset, reconnecting', held);
      const result = held.result as { connections: number; refused: number };
      // The legitimate peer's dials, in the control run and beside the attack: one per new tunnel,
      // and one for each run's pinged tunnel (which never broke: expectHeld).
      const attackerDials = lab.appConnections() - dials - held.control.tried - held.under.tried - 2;
      console.log(`rapid reset: ${attackerDials} app dials for ${result.connections} attacking connections`);
      expect(result.connections).toBeGreaterThan(0);
      expect(attackerDials).toBeLessThanOrEqual(2 * result.connections);
      expect((await resets('rapid-reset-goaway')) - goaways).toBeGreaterThanOrEqual(result.connections - 1);
      // Reconnecting earns a penalty at accept: the attacker's source is refused most of the time.
      expect((await refusals()) - penalized).toBeGreaterThan(result.connections);
    },
    ATTACK_TEST_TIMEOUT_MS,
  );

  it(
    'a reconnecting WINDOW_UPDATE flood is cut within a bounded number of frames and its source slowed',
    async () => {
      const [closed, penalized] = [await resets('control-frame-flood'), await refusals()];
      const held = await holdBeside(lab, () => h2Attack('window-flood-loop', `${HOLD_SECONDS}`));
      expectHeld(lab, 'hbone: WINDOW_UPDATE flood, reconnecting', held);
      const result = held.result as { connections: number; refused: number; sent: number };
      const perConnection = result.sent / Math.max(1, result.connections);
      console.log(`hbone WINDOW_UPDATE flood: ${perConnection.toFixed(0)} frames written per connection`);
      expect(result.connections).toBeGreaterThan(0);
      expect(perConnection).toBeLessThan(MOST_WINDOW_FRAMES_PER_CONNECTION);
      expect((await resets('control-frame-flood')) - closed).toBeGreaterThanOrEqual(result.connections - 1);
      expect((await refusals()) - penalized).toBeGreaterThan(0);
      expect(held.cpuSeconds).toBeLessThan(held.seconds);
    },
    ATTACK_TEST_TIMEOUT_MS,
  );
});
