/**
 * `@switchyard/core/testing` — the driver compliance suite. Every driver, built-in or third-party,
 * runs it from its own test file, so all drivers honour the same contract.
 *
 * @example
 * ```ts
 * // my-driver.test.ts
 * import { describeDriverCompliance } from '@switchyard/core/testing';
 * import { myDriver } from './my-driver.js';
 *
 * describeDriverCompliance({
 *   create: () => myDriver(),
 *   target: () => ({ kind: 'netns', name: 'compliance' }),
 * });
 * ```
 *
 * @module
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RedirectionDriver } from '../driver.js';
import { isSwitchyardError, type PolicyInvalidError, type TargetUnsupportedError } from '../errors.js';
import type { RedirectionPolicy } from '../policy.js';
import type { Target } from '../target.js';
import { normalizePolicy } from '../validate-policy.js';

/** Options of {@link describeDriverCompliance}. */
export interface DriverComplianceOptions {
  /** Suite title suffix. Default: the driver's name once created. */
  title?: string;
  /** Makes a fresh driver for each test. */
  create(): RedirectionDriver | Promise<RedirectionDriver>;
  /** Gives a target that holds no Switchyard policy, for each test (make a namespace, an endpoint…). */
  target(): Target | Promise<Target>;
  /** Releases what `target()` made, after each test. The suite has already removed its policies. */
  cleanup?(target: Target): void | Promise<void>;
  /**
   * Two different valid policies the driver can express, with ids `compliance-a` and `compliance-b`.
   * Default: IPv4 TCP with inbound and outbound capture and a few exclusions.
   */
  policies?: { a: RedirectionPolicy; b: RedirectionPolicy };
  /** A target kind the driver must refuse. Default `{ kind: 'compliance:unsupported' }`. */
  unsupportedTarget?: Target;
  /** Address the socket-ops tests listen and dial on. Default `127.0.0.1`. */
  loopback?: string;
}

/** The policies the suite applies unless a driver supplies its own. */
export const COMPLIANCE_POLICIES: { a: RedirectionPolicy; b: RedirectionPolicy } = {
  a: {
    id: 'compliance-a',
    families: ['ipv4'],
    inbound: { port: 15006, excludePorts: [15008, '15020-15021'] },
    outbound: { port: 15001, excludeCidrs: ['169.254.0.0/16'], excludePorts: [22] },
  },
  b: {
    id: 'compliance-b',
    families: ['ipv4'],
    outbound: { port: 15101, excludePorts: [53] },
  },
};

function once<T>(
  emitter: { once(event: string, fn: (value: T) => void): unknown },
  event: string,
): Promise<T> {
  return new Promise((resolve) => emitter.once(event, resolve));
}

async function listenEcho(host: string): Promise<Server> {
  const server = createServer((socket) => socket.pipe(socket));
  server.listen(0, host);
  await once(server, 'listening');
  return server;
}

function roundTrip(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString();
      if (received.length >= text.length) resolve(received);
    });
    socket.once('error', reject);
    socket.write(text);
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Registers a vitest `describe` block proving the driver honours the {@link RedirectionDriver}
 * contract: validation before any change, dry runs that change nothing, idempotent apply,
 * replace-by-id, list read back, exact removal counts, refused target kinds, and working socket ops.
 */
export function describeDriverCompliance(options: DriverComplianceOptions): void {
  const policies = options.policies ?? COMPLIANCE_POLICIES;
  const loopback = options.loopback ?? '127.0.0.1';

  describe(`driver compliance${options.title ? `: ${options.title}` : ''}`, () => {
    let driver: RedirectionDriver;
    let target: Target;

    beforeEach(async () => {
      driver = await options.create();
      target = await options.target();
    });

    afterEach(async () => {
      try {
        await driver.remove(target);
      } finally {
        await options.cleanup?.(target);
      }
    });

    it('names itself and accepts the kind of target it is given', () => {
      expect(driver.name).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(driver.targetKinds).toContain(target.kind);
      expect(typeof driver.capabilities.multiplePolicies).toBe('boolean');
    });

    it('probes as usable here, with no problems listed', async () => {
      const probe = await driver.probe();
      expect(probe.problems).toEqual([]);
      expect(probe.usable).toBe(true);
      expect(typeof probe.details).toBe('object');
    });

    it('starts with nothing on a fresh target, and removing nothing removes 0', async () => {
      expect(await driver.list(target)).toEqual([]);
      expect(await driver.remove(target)).toBe(0);
    });

    it('returns the same artifact on a dry run as on the real apply, and the dry run changes nothing', async () => {
      const dry = await driver.apply(target, policies.a, { dryRun: true });
      expect(dry.dryRun).toBe(true);
      expect(dry.changed).toBe(true);
      expect(dry.artifact.content.length).toBeGreaterThan(0);
      expect(await driver.list(target)).toEqual([]);
      const real = await driver.apply(target, policies.a);
      expect(real.dryRun).toBe(false);
      expect(real.id).toBe(policies.a.id);
      expect(real.artifact).toEqual(dry.artifact);
    });

    it('lists what it applied, as the normalized policy', async () => {
      await driver.apply(target, policies.a);
      expect(await driver.list(target)).toEqual([{ id: policies.a.id, policy: normalizePolicy(policies.a) }]);
    });

    it('is idempotent: the same policy again reports no change and leaves one policy', async () => {
      const first = await driver.apply(target, policies.a);
      const second = await driver.apply(target, policies.a);
      expect(first.changed).toBe(true);
      expect(second.changed).toBe(false);
      expect(second.artifact).toEqual(first.artifact);
      expect(await driver.list(target)).toHaveLength(1);
      const dry = await driver.apply(target, policies.a, { dryRun: true });
      expect(dry.changed).toBe(false);
    });

    it('replaces a policy applied again under the same id', async () => {
      await driver.apply(target, policies.a);
      const changed = { ...policies.b, id: policies.a.id };
      const result = await driver.apply(target, changed);
      expect(result.changed).toBe(true);
      expect(await driver.list(target)).toEqual([{ id: policies.a.id, policy: normalizePolicy(changed) }]);
    });

    it('refuses an invalid policy with every problem listed, and changes nothing', async () => {
      await driver.apply(target, policies.a);
      const before = await driver.list(target);
      const bad = {
        id: policies.a.id,
        inbound: { port: 0 },
        outbound: { port: 70000, excludeCidrs: ['10.0.0.1/8'] },
      };
      const error = await driver.apply(target, bad).catch((e: unknown) => e);
      // By brand, not instanceof: the driver under test may bring its own copy of core.
      expect(isSwitchyardError(error), String(error)).toBe(true);
      expect((error as PolicyInvalidError).code).toBe('SWY_ERR_POLICY_INVALID');
      expect((error as PolicyInvalidError).issues.map((i) => i.path)).toEqual([
        'inbound.port',
        'outbound.port',
        'outbound.excludeCidrs[0]',
      ]);
      expect(await driver.list(target)).toEqual(before);
    });

    it('refuses a target kind it does not handle, with SWY_ERR_TARGET_UNSUPPORTED', async () => {
      const other = options.unsupportedTarget ?? ({ kind: 'compliance:unsupported' } as Target);
      const error = await driver.apply(other, policies.a).catch((e: unknown) => e);
      expect(isSwitchyardError(error), String(error)).toBe(true);
      expect((error as TargetUnsupportedError).code).toBe('SWY_ERR_TARGET_UNSUPPORTED');
    });

    it('removes by id with an exact count, and an unknown id removes 0', async () => {
      await driver.apply(target, policies.a);
      expect(await driver.remove(target, 'no-such-policy')).toBe(0);
      expect(await driver.list(target)).toHaveLength(1);
      expect(await driver.remove(target, policies.a.id)).toBe(1);
      expect(await driver.list(target)).toEqual([]);
      expect(await driver.remove(target, policies.a.id)).toBe(0);
    });

    it('keeps several policies apart when it supports them, or refuses the second clearly', async () => {
      await driver.apply(target, policies.a);
      if (driver.capabilities.multiplePolicies) {
        await driver.apply(target, policies.b);
        expect((await driver.list(target)).map((p) => p.id)).toEqual([policies.a.id, policies.b.id].sort());
        expect(await driver.remove(target)).toBe(2);
      } else {
        await expect(driver.apply(target, policies.b)).rejects.toMatchObject({
          code: expect.stringMatching(/^SWY_ERR_/),
        });
        expect(await driver.remove(target)).toBe(1);
      }
      expect(await driver.list(target)).toEqual([]);
    });

    it('socket ops: a listener reports where an accepted connection was going', async () => {
      const server = await driver.socketOps.listen({ port: 0, host: loopback });
      try {
        const address = server.address();
        if (address === null || typeof address === 'string') throw new Error('listener has no TCP address');
        const accepted = once<Socket>(server, 'connection');
        const client = connect({ host: loopback, port: address.port });
        const socket = await accepted;
        expect(driver.socketOps.originalDestination(socket)).toMatchObject({
          address: loopback,
          port: address.port,
        });
        client.destroy();
        socket.destroy();
      } finally {
        await closeServer(server);
      }
    });

    it('socket ops: an upstream dial connects and carries bytes both ways', async () => {
      const echo = await listenEcho(loopback);
      try {
        const address = echo.address();
        if (address === null || typeof address === 'string')
          throw new Error('echo server has no TCP address');
        const upstream = await driver.socketOps.dial({
          destination: { address: loopback, port: address.port },
        });
        expect(await roundTrip(upstream, 'switchyard')).toBe('switchyard');
        upstream.destroy();
      } finally {
        await closeServer(echo);
      }
    });
  });
}
