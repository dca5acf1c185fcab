import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectAdminPortRefused } from './admin-port.js';
import { type AttackLab, startAttackLab } from './attack-lab.js';
import { ATTACK_TEST_TIMEOUT_MS } from './attack-lock.js';
import { expectHeld, HOLD_SECONDS, holdBeside } from './held.js';
import { sample } from './report.js';

/** A non-default admin port: the proxy must know it is its own whatever its number. */
const ADMIN_PORT = 15991;
/** Streams each rapid-reset connection opens and resets at once. */
const RESETS_PER_CONNECTION = 500;
/**
 * Frames one WINDOW_UPDATE flooding connection may write before it sees its end: the engine's
 * budget, and what the socket buffers on both sides took meanwhile (13 bytes a frame); without a
 * cut by count a connection writes millions in its 1–2 s.
 */
const MOST_WINDOW_FRAMES_PER_CONNECTION = 400_000;

// `switchyard proxy hbone --carrier hbone-native` (HBONE on the native engine) started through the
// CLI, each attack held for 10 s by python3-h2 or python's ssl from a second namespace, while Go's
// net/http keeps an established tunnel pinged every 100 ms and opens a new tunnel every 500 ms; the
// same peer's control run, alone, comes first in every test.
describePrivileged('switchyard proxy hbone --carrier hbone-native, attacks held for seconds', () => {
  let lab: AttackLab;
  const metric = async (name: string, label: string) => sample(await lab.metrics(), name, label);
  const resets = (reason: string) => metric('switchyard_hbone_stream_resets_total', `reason="${reason}"`);
  const refusals = () => metric('switchyard_refusals_total', 'reason="abuse-penalty"');
  /** python3-h2 against the HBONE port with an allowed peer's certificate. */
  const h2Attack = (...args: string[]) =>
    lab.python('hbone', lab.target.host, `${lab.target.port}`, lab.certs.peer, lab.authority, ...args);
  beforeAll(async () => {
    // A first wave (handshake churn, rapid reset) sizes the engine threads' allocator arenas
    // once: the resident memory every attack is held to is taken after it.
    const firstWave = async (l: AttackLab) => {
      const at = [l.target.host, `${l.target.port}`];
      await l.python('tcp', 'hello-churn', ...at, '8', '200000', l.sources(20).join(','));
      await l.python('hbone', ...at, l.certs.peer, l.authority, 'rapid-reset-loop', '500', '3');
    };
    lab = await startAttackLab('hbone', firstWave, {
      adminPort: ADMIN_PORT,
      carrier: 'hbone-native',
      light: true,
    });
  }, 120_000);
  afterAll(async () => {
    await lab?.close();
  });

  it('a tunnel to the admin port gets 503, whatever its number', async () => {
    await expectAdminPortRefused(lab, ADMIN_PORT);
  }, 60_000);

  it(
    'handshakes abandoned with a FIN from 20 sources do not starve the legitimate peer',
    async () => {
      const sources = lab.sources(20).join(',');
      const held = await holdBeside(lab, () =>
        lab.python(
          'tcp',
          'hello-churn',
          ...[lab.target.host, `${lab.target.port}`, `${HOLD_SECONDS}`, '200000'],
          sources,
        ),
      );
      expectHeld(lab, 'hbone-native: ClientHello then FIN, 20 sources', held);
      expect((held.result as { sent: number }).sent).toBeGreaterThan(1_000);
    },
    ATTACK_TEST_TIMEOUT_MS,
  );

  it(
    'rapid reset from a reconnecting attacker costs the app at most a few dials per connection',
    async () => {
      const [goaways, dials] = [await resets('rapid-reset-goaway'), lab.appConnections()];
      const held = await holdBeside(lab, () =>
        h2Attack('rapid-reset-loop', `${RESETS_PER_CONNECTION}`, `${HOLD_SECONDS}`),
      );
      expectHeld(lab, 'hbone-native: rapid reset, reconnecting', held);
      const result = held.result as { connections: number; refused: number };
      // The legitimate peer's dials: one per new tunnel, and each run's pinged tunnel.
      const attackerDials = lab.appConnections() - dials - held.control.tried - held.under.tried - 2;
      console.log(
        `hbone-native rapid reset: ${attackerDials} app dials for ${result.connections} connections`,
      );
      expect(result.connections).toBeGreaterThan(0);
      expect(attackerDials).toBeLessThanOrEqual(2 * result.connections);
      expect((await resets('rapid-reset-goaway')) - goaways).toBeGreaterThanOrEqual(result.connections - 1);
    },
    ATTACK_TEST_TIMEOUT_MS,
  );

  it(
    'a reconnecting WINDOW_UPDATE flood is cut within a bounded number of frames; its CPU is bounded',
    async () => {
      const [closed, penalized] = [await resets('control-frame-flood'), await refusals()];
      const held = await holdBeside(lab, () => h2Attack('window-flood-loop', `${HOLD_SECONDS}`));
      expectHeld(lab, 'hbone-native: WINDOW_UPDATE flood, reconnecting', held);
      const result = held.result as { connections: number; refused: number; sent: number };
      const perConnection = result.sent / Math.max(1, result.connections);
      console.log(`hbone-native WINDOW_UPDATE flood: ${perConnection.toFixed(0)} frames per connection`);
      expect(result.connections).toBeGreaterThan(0);
      expect(perConnection).toBeLessThan(MOST_WINDOW_FRAMES_PER_CONNECTION);
      expect((await resets('control-frame-flood')) - closed).toBeGreaterThanOrEqual(result.connections - 1);
      expect((await refusals()) - penalized).toBeGreaterThan(0);
      expect(held.cpuSeconds).toBeLessThan(held.seconds);
    },
    ATTACK_TEST_TIMEOUT_MS,
  );
});
