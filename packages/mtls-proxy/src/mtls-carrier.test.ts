import { describeCarrierCompliance, LOCAL } from '@switchyard/dataplane/testing';
import { mtlsCarrier } from './mtls-carrier.js';

describeCarrierCompliance({
  carrier: () => mtlsCarrier(),
  route: (server) => ({
    address: LOCAL,
    port: server.listeners.find((l: { role: string }) => l.role === 'inbound')?.port ?? 0,
  }),
});
