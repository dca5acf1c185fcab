import { DEFAULT_ACCESS_LOG_RATE } from '@switchyard/dataplane';
import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { issueCrafted } from '@switchyard/mesh/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type AttackLab, startAttackLab } from './attack-lab.js';
import { type AttackRow, holdTo, printRows, sample } from './report.js';

// `switchyard proxy mtls`, started through the CLI in a network namespace with inbound capture,
// attacked from another namespace with python's ssl (an implementation apart from Node's) while
// Go's crypto/tls opens new mTLS connections from another address beside every attack. One proxy
// process takes every attack in turn and is held after each to the footprint it had after the
// first wave.
// Attacks take turns across suites (attack-lock.ts): a test's timeout leaves room to wait.
describePrivileged('switchyard proxy mtls under attack', () => {
  let lab: AttackLab;
  let twoIds: string;
  const rows: AttackRow[] = [];
  const at = () => [lab.target.host, `${lab.target.port}`];
  const failures = async (reason: string) =>
    sample(await lab.metrics(), 'switchyard_tls_failures_total', `reason="${reason}"`);
  // Every attack, at the size the tests use; the first wave runs them all before the baseline.
  const attack = {
    hold: () => lab.python('tcp', 'hold', ...at(), '1500', '8'),
    churn: () => lab.python('tcp', 'churn', ...at(), '5', '20000'),
    noCertificate: () => lab.python('tcp', 'tls', ...at(), '3', '300', '-'),
    twoIds: () => lab.python('tcp', 'tls', ...at(), '3', '300', twoIds),
    denied: () => lab.python('tcp', 'tls', ...at(), '3', '300', lab.certs.denied),
  };
  beforeAll(async () => {
    lab = await startAttackLab('mtls', async (started) => {
      lab = started;
      twoIds = await issueCrafted(lab.pki, 'two-ids', [
        'spiffe://cluster.local/ns/web/sa/peer',
        'spiffe://cluster.local/ns/admin/sa/root',
      ]);
      for (const run of Object.values(attack)) await run();
    });
  }, 480_000);
  afterAll(async () => {
    printRows('proxy mtls', rows);
    await lab?.close();
  });

  it('1a. idle connections that never start a handshake are shed or timed out, none kept', async () => {
    const [shed, timedOut] = [await failures('pending-per-source'), await failures('timeout')];
    const out = await lab.beside(attack.hold);
    expect(out.result).toMatchObject({ opened: 1500, still_open: 0 });
    expect(await failures('pending-per-source')).toBeGreaterThan(shed);
    expect(await failures('timeout')).toBeGreaterThan(timedOut);
    holdTo(lab, rows, 'idle TCP, 1,500 held 8 s', out);
  }, 180_000);

  it('1b. connect-and-close churn does not cost legitimate peers their connections', async () => {
    const out = await lab.beside(attack.churn);
    expect((out.result as { connected: number }).connected).toBeGreaterThan(500);
    holdTo(lab, rows, 'connect+close churn, 5 s', out);
  }, 180_000);

  it('1c. TLS handshakes without a client certificate are refused and counted by reason', async () => {
    const before = await failures('no-certificate');
    const out = await lab.beside(attack.noCertificate);
    expect(out.result).toMatchObject({ answered: 0 });
    expect(await failures('no-certificate')).toBeGreaterThan(before);
    holdTo(lab, rows, 'TLS without a certificate, 3 s', out);
  }, 180_000);

  it('5. a certificate with two SPIFFE IDs is refused, and the app gets nothing', async () => {
    const before = lab.appConnections();
    const out = await lab.beside(attack.twoIds);
    expect(out.result).toMatchObject({ answered: 0 });
    expect((out.result as { refused: number }).refused).toBeGreaterThan(0);
    expect(lab.appConnections() - before).toBe(out.legit.ok);
    holdTo(lab, rows, 'two SPIFFE IDs, 3 s', out);
  }, 180_000);

  it('7 and 10. a denied peer is counted as a denial by reason, and logged in sampled lines', async () => {
    const lines = lab.logLines();
    const started = Date.now();
    const denials = sample(await lab.metrics(), 'switchyard_authorization_denials_total');
    const out = await lab.beside(attack.denied);
    const refused = (out.result as { refused: number }).refused;
    expect(out.result).toMatchObject({ answered: 0 });
    expect(refused).toBeGreaterThan(50);
    expect(sample(await lab.metrics(), 'switchyard_authorization_denials_total') - denials).toBe(refused);
    // Legitimate and refused connections share one budget of lines per second (and a line that
    // counts what was dropped): never a line per frame or per refused connection.
    const seconds = Math.ceil((Date.now() - started) / 1000);
    expect(lab.logLines() - lines).toBeLessThanOrEqual((DEFAULT_ACCESS_LOG_RATE + 1) * seconds);
    holdTo(lab, rows, 'denied peer, 3 s (log flood)', out);
  }, 180_000);
});
