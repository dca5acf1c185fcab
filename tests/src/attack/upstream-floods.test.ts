import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describePrivileged } from '@switchyard/driver-tproxy/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bin } from '../testing/cli-bin.js';
import { type AttackLab, startAttackLab } from './attack-lab.js';
import { ATTACK_TEST_TIMEOUT_MS, oneAttackAtATime } from './attack-lock.js';
import { HOLD_SECONDS } from './held.js';
import { sample } from './report.js';

const run = promisify(execFile);

/** Where the upstreams' echo listens (in the attacker's namespace), reached through the tunnels. */
const ECHO_PORT = 7777;
/**
 * Frames one flooding upstream connection may write before it sees its end: the budget (256 KiB
 * of non-DATA bytes, 9 bytes or more a frame), one hand-over of 8 records, and what the socket
 * buffers on both sides took meanwhile; a polled cut let one connection write millions.
 */
const MOST_FRAMES_PER_CONNECTION = 400_000;

// A hostile HBONE upstream (python3-h2) that floods the proxy's pooled client with control frames
// as soon as it has connected, beside a legitimate upstream (Go's net/http): `switchyard proxy
// hbone` started through the CLI with outbound capture (`redirect apply --outbound-port`), a client
// in the workload's namespace dialling both destinations for 10 s. The hostile connections are cut
// and counted; every connection to the legitimate destination is echoed.
for (const carrier of ['hbone', 'hbone-native'] as const) {
  describePrivileged(`switchyard proxy hbone --carrier ${carrier}: an upstream that floods us`, () => {
    let lab: AttackLab;
    let legitAddress: string;
    let stopLegit: (() => void) | undefined;
    beforeAll(async () => {
      lab = await startAttackLab('hbone', async () => undefined, {
        carrier,
        light: true,
        proxyArgs: (l) => ['--mesh-cidr', `${l.a.v4.replace(/\.1$/, '.0')}/24`],
      });
      await run(process.execPath, [bin, 'redirect', 'apply', '--netns', lab.lab.b.name, '--outbound-port']);
      [legitAddress] = lab.sources(1) as [string];
      const upstream = await lab.pki.issue('upstream', 'web');
      stopLegit = await lab.goServer(upstream, `${legitAddress}:15008`);
    }, 180_000);
    afterAll(async () => {
      stopLegit?.();
      await lab?.close();
    });

    for (const kind of ['window', 'ping', 'settings'] as const)
      it(
        `a ${kind} flood from an upstream is cut within a bounded number of frames; other destinations are served`,
        async () => {
          const floods = async () =>
            sample(
              await lab.metrics(),
              'switchyard_hbone_stream_resets_total',
              'reason="control-frame-flood"',
              'direction="outbound"',
            );
          const before = await floods();
          const hostileCert = await lab.pki.issue(`hostile-${kind}`, 'web');
          const hostile = lab.lab.a.v4;
          const [flood, , hostileDials, legit] = await oneAttackAtATime(() =>
            Promise.all([
              lab.upstream('a', 'flood', hostileCert, hostile, '15008', kind, `${HOLD_SECONDS + 2}`),
              lab.upstream('a', 'echo', legitAddress, `${ECHO_PORT}`, `${HOLD_SECONDS + 2}`),
              delayed(() => lab.upstream('b', 'dial', hostile, `${ECHO_PORT}`, `${HOLD_SECONDS}`)),
              delayed(() => lab.upstream('b', 'dial', legitAddress, `${ECHO_PORT}`, `${HOLD_SECONDS}`)),
            ]),
          );
          const frames = flood.frames as number[];
          console.log(
            `${carrier}, upstream ${kind} flood: ${frames.length} connections, frames written each ` +
              `${JSON.stringify(frames)}; the hostile destination's clients ${JSON.stringify(hostileDials)}; ` +
              `the legitimate destination's ${JSON.stringify(legit)}`,
          );
          expect(frames.length).toBeGreaterThan(0);
          for (const written of frames) expect(written).toBeLessThan(MOST_FRAMES_PER_CONNECTION);
          expect(legit.errors).toEqual({});
          expect(legit.tried as number).toBeGreaterThan(50);
          expect(legit.ok).toBe(legit.tried);
          // A WINDOW_UPDATE flood is the budget's to cut; PINGs and SETTINGS, whose answers the
          // flooder never reads, are often cut first by nghttp2's limit on queued answers.
          const counted = (await floods()) - before;
          console.log(`${carrier}, upstream ${kind} flood: ${counted} counted as control-frame-flood`);
          if (kind === 'window')
            expect(counted).toBeGreaterThanOrEqual(carrier === 'hbone' ? frames.length - 1 : 1);
        },
        ATTACK_TEST_TIMEOUT_MS,
      );
  });
}

/** Starts `f` once the listeners of the same attack are up. */
async function delayed<T>(f: () => Promise<T>): Promise<T> {
  await new Promise((r) => setTimeout(r, 1_000));
  return f();
}
