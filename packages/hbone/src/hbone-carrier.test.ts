import { describeCarrierCompliance, LOCAL } from '@switchyard/dataplane/testing';
import { hboneCarrier } from './hbone-carrier.js';

describeCarrierCompliance({
  carrier: () => hboneCarrier(),
  route: (server) => ({
    address: LOCAL,
    port: server.listeners.find((l: { role: string }) => l.role === 'hbone')?.port ?? 0,
  }),
});
