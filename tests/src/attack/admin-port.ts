import { expect } from 'vitest';
import type { AttackLab } from './attack-lab.js';
import { APP_PORT } from './lab-app.js';

/**
 * A tunnel to the proxy's own admin port (whatever its number) gets 503 and no byte of it, while
 * a tunnel to the app on the same address is carried: the HBONE proxy knows the port is its own.
 */
export async function expectAdminPortRefused(lab: AttackLab, adminPort: number): Promise<void> {
  // The admin endpoints answer on that port, inside the workload's namespace.
  expect(await lab.metrics()).toContain('switchyard_');
  const at = [lab.target.host, `${lab.target.port}`, lab.certs.peer];
  const admin = await lab.python('hbone', ...at, `${lab.lab.b.v4}:${adminPort}`, 'tunnel');
  expect(admin).toMatchObject({ status: 503, echo: '' });
  const app = await lab.python('hbone', ...at, `${lab.lab.b.v4}:${APP_PORT}`, 'tunnel');
  expect(app).toMatchObject({ status: 200 });
}
