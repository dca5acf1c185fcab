import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { expect, it } from 'vitest';
import { describePrivileged } from './testing/index.js';
import { tproxyDriver } from './tproxy-driver.js';

describePrivileged('a transparent listener that cannot open says where', () => {
  it('names the address and port it tried (a port already taken), not only "bind failed"', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const { port } = taken.address() as AddressInfo;
    try {
      await expect(tproxyDriver().socketOps.listen({ host: '127.0.0.1', port })).rejects.toThrow(
        new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${port}: bind failed: Address already in use$`),
      );
    } finally {
      taken.close();
    }
  });
});
