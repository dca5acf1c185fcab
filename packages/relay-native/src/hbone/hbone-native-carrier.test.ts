import { describeCarrierCompliance, LOCAL } from '@switchyard/dataplane/testing';
import { hboneNativeCarrier } from './hbone-native-carrier.js';

describeCarrierCompliance({
  carrier: () => hboneNativeCarrier(),
  route: (server) => ({
    address: LOCAL,
    port: server.listeners.find((l: { role: string }) => l.role === 'hbone')?.port ?? 0,
  }),
});
