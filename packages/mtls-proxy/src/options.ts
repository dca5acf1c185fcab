import type { Target } from '@switchyard/core';
import type {
  CarrierFactory,
  InboundPolicy,
  OutboundPolicy,
  SidecarPlaneOptions,
} from '@switchyard/dataplane';
import type { CertificateStore } from '@switchyard/mesh';

/** The inbound half: terminate mTLS from peers, authorize them, hand plain TCP to the app. */
export type InboundOptions = InboundPolicy;

/** The outbound half: take captured plain TCP, open mTLS to the original destination, verify the server. */
export type OutboundOptions = OutboundPolicy;

/**
 * Everything an {@link MtlsSidecar} needs: the capture driver's socket operations (any driver's:
 * the sidecar imports none), identity, limits and logging as every sidecar takes them, and:
 */
export interface MtlsSidecarOptions extends SidecarPlaneOptions {
  /** The workload's certificate, rotated from files. */
  certificates: CertificateStore;
  inbound?: InboundOptions;
  outbound?: OutboundOptions;
  /** Open the sidecar's sockets inside this target's network (a node-level proxy). Default: our own. */
  target?: Target;
  /**
   * The carrier that moves the bytes: any carrier speaking the same mTLS wire protocol, such as
   * `mtlsNativeCarrier()` from `@switchyard/relay-native/carrier`. Default: `mtlsCarrier()`.
   */
  carrier?: CarrierFactory;
}
