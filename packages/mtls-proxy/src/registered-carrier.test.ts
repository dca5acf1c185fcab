import { CarrierRegistry } from '@switchyard/dataplane';
import { CARRIER_API_VERSION, defineCarrier } from '@switchyard/dataplane/carrier';
import { describeCarrierCompliance, LOCAL } from '@switchyard/dataplane/testing';
import { mtlsCarrier } from './mtls-carrier.js';

// A third-party carrier takes the same door as a built-in one: a module's definition, registered
// by name in the carrier registry, picked from it, and proven by the same compliance suite.
const acme = defineCarrier({
  name: 'acme-mtls',
  apiVersion: CARRIER_API_VERSION,
  description: 'a third-party carrier (the mtls carrier under another name)',
  create: () => ({ ...mtlsCarrier(), name: 'acme-mtls' }),
});
const registry = new CarrierRegistry();
registry.register(acme);
const factory = await registry.factory('acme-mtls');

describeCarrierCompliance({
  carrier: () => factory,
  route: (server) => ({
    address: LOCAL,
    port: server.listeners.find((l) => l.role === 'inbound')?.port ?? 0,
  }),
  title: 'a carrier registered by name (acme-mtls)',
});
