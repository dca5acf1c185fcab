import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../testing/agent-node-lab.js';
import { preflight } from './preflight.js';

describe('switchyard-agent check with Docker in the config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy13-check-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('checks every Docker socket the config names, and says how to fix one that does not answer', async () => {
    const config = join(dir, 'agent.yaml');
    writeFileSync(
      config,
      JSON.stringify({
        identity: { caDir: 'ca' },
        stateDir: 'state',
        admin: { port: await freePort() },
        source: { kind: 'docker', socket: join(dir, 'source.sock') },
        metadataProxy: { docker: join(dir, 'metadata.sock') },
      }),
    );
    const docker = (await preflight(config)).filter((r) => r.name === 'docker');
    expect(docker.map((r) => [r.ok, r.blocking, r.fix])).toEqual([
      [false, true, 'start dockerd, or set source.socket / metadataProxy.docker to its socket'],
      [false, true, 'start dockerd, or set source.socket / metadataProxy.docker to its socket'],
    ]);
    expect(docker[0]?.message).toMatch(/^no Docker daemon answers on .*source\.sock/);
    expect(docker[1]?.message).toMatch(/^no Docker daemon answers on .*metadata\.sock/);
  });

  it('asks nothing of Docker when the config does not use it', async () => {
    const config = join(dir, 'plain.yaml');
    writeFileSync(
      config,
      JSON.stringify({ identity: { caDir: 'ca' }, stateDir: 'state', admin: { port: await freePort() } }),
    );
    expect((await preflight(config)).filter((r) => r.name === 'docker')).toEqual([]);
  });
});
