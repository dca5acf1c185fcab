import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { connectCri } from './cri-client.js';
import { grpcTarget } from './endpoints.js';

describe('connectCri failures', () => {
  it("say why each endpoint failed without gRPC's wrapping, and no CLI flag", async () => {
    const missing = connectCri({ endpoint: 'unix:///run/switchyard-no-such-cri.sock', timeoutMs: 2000 });
    await expect(missing).rejects.toMatchObject({ code: 'SWY_ERR_RUNTIME_UNAVAILABLE' });
    const message = await missing.catch((e: Error) => e.message);
    expect(message).toMatch(
      /^no container runtime answered CRI at its endpoint:\n {2}unix:\/\/\/run\/switchyard-no-such-cri\.sock: connect ENOENT \/run\/switchyard-no-such-cri\.sock\nstart the runtime, or give its endpoint/,
    );
    expect(message).not.toMatch(/Resolution note|Last error|--runtime-endpoint/);
  });

  it("take crictl's tcp://host:port form (a port where nothing answers CRI is reported as such)", async () => {
    expect(grpcTarget('tcp://127.0.0.1:2376')).toBe('127.0.0.1:2376');
    const server = createServer((s) => s.destroy()).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    try {
      const message = await connectCri({ endpoint: `tcp://127.0.0.1:${port}`, timeoutMs: 2000 }).catch(
        (e: Error) => e.message,
      );
      expect(message).toMatch(
        new RegExp(
          `^no container runtime answered CRI at its endpoint:\\n {2}tcp://127\\.0\\.0\\.1:${port}: `,
        ),
      );
      expect(message).not.toMatch(/Name resolution failed|dns:tcp/);
    } finally {
      server.close();
    }
  });
});
