import { describeCarrierCompliance } from '@switchyard/dataplane/testing';
import { mtlsNativeCarrier } from './mtls-native-carrier.js';

describeCarrierCompliance({
  carrier: () => mtlsNativeCarrier(),
  route: (server) => ({
    address: '127.0.0.1',
    port: server.listeners.find((l) => l.role === 'inbound')?.port ?? 0,
  }),
});
