import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AttackLab, startAttackLab } from './attack-lab.js';
import { DOWNLOAD_BYTES, DOWNLOAD_PORT } from './lab-app.js';

// A download still running when `switchyard proxy hbone|mtls` is stopped (SIGTERM, a 1 s drain)
// is cut at the deadline, and the client — Go's net/http (which reads on after a GOAWAY, as
// python3-h2 cannot), python's ssl — must read the cut as one:
// RST_STREAM on HBONE, a TCP reset or a TLS record that fails on mTLS; never END_STREAM, a
// close_notify or a bare FIN, which a client takes for the end of a complete download.
describePrivileged('a drain cuts downloads with a reset the client reads', () => {
  const carriers = [
    { kind: 'hbone', engine: 'js', cut: /^reset: .*CANCEL/ },
    { kind: 'mtls', engine: 'js', cut: /^(reset|tls-error)$/ },
    // The native engine ends with a FIN and no close_notify: a truncation a TLS client that checks
    // (OpenSSL 3, python with suppress_ragged_eofs off) reports as an error, never an end.
    { kind: 'mtls', engine: 'native', cut: /^(reset|tls-error|fin)$/ },
  ] as const;
  describe.each(carriers)('proxy $kind --engine $engine', ({ kind, engine, cut }) => {
    let lab: AttackLab;
    beforeAll(async () => {
      lab = await startAttackLab(kind, async () => undefined, { engine, light: true });
    }, 120_000);
    afterAll(async () => {
      await lab?.close();
    });

    it('the client of a download cut at the deadline reads a reset, not an end', async () => {
      const at = `${lab.lab.b.v4}:${DOWNLOAD_PORT}`;
      const download =
        kind === 'hbone'
          ? lab.go('download', `${lab.target.host}:${lab.target.port}`, lab.certs.peer, at)
          : lab.python('tcp', 'download', lab.lab.b.v4, `${DOWNLOAD_PORT}`, lab.certs.peer);
      await new Promise((r) => setTimeout(r, 1_500));
      await lab.terminate();
      const result = (await download) as { bytes: number; end: string };
      console.log(`drain, proxy ${kind} --engine ${engine}: ${JSON.stringify(result)}`);
      expect(result.bytes).toBeGreaterThan(0);
      expect(result.bytes).toBeLessThan(DOWNLOAD_BYTES);
      expect(result.end).toMatch(cut);
    }, 60_000);
  });
});
