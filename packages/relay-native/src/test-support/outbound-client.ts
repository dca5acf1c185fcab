import type { DataPlane } from '@switchyard/dataplane';
import { LOCAL } from '@switchyard/dataplane/testing';
import type { CertificateStore } from '@switchyard/mesh';
import { mtlsNativeCarrier } from '../carrier/mtls-native-carrier.js';

/**
 * Adds the client workload of a carrier test to `plane` on the mtls-native carrier: its outbound
 * listener on loopback sends every connection to the server workload's `inboundPort`, for the
 * app on `appPort`. Returns the outbound listener's port.
 */
export async function addOutboundClient(
  plane: DataPlane,
  identity: CertificateStore,
  appPort: number,
  inboundPort: number,
): Promise<number> {
  const status = await plane.addWorkload({
    id: 'client',
    identity,
    carrier: mtlsNativeCarrier(),
    policy: {
      outbound: {
        port: 0,
        host: LOCAL,
        meshCidrs: ['127.0.0.0/8'],
        fixedDestination: { address: LOCAL, port: appPort },
        route: () => ({ address: LOCAL, port: inboundPort }),
      },
    },
  });
  return status.listeners.find((l) => l.role === 'outbound')?.port ?? 0;
}
