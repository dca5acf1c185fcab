/**
 * The platform-neutral redirection policy: what traffic to capture and where to send it.
 * Drivers translate a {@link NormalizedPolicy} into nftables rules, HNS policies, or their own form.
 *
 * @module
 */

/** An IP family a policy applies to. */
export type IpFamily = 'ipv4' | 'ipv6';

/**
 * A transport protocol. Only `tcp` is captured today; the type stays open so UDP can be added
 * without changing the shape of the policy.
 */
export type Protocol = 'tcp' | 'udp';

/** A port (`8080`), an inclusive range written as a string (`"8000-8100"`), or a normalized {@link PortRange}. */
export type PortSpec = number | string | PortRange;

/** An inclusive port range after normalization; a single port has `from === to`. */
export interface PortRange {
  from: number;
  to: number;
}

/** Proxy ports Istio uses, which Switchyard shares so the pieces work together by default. */
export const DEFAULT_PORTS = {
  /** Where captured inbound connections are delivered. */
  inbound: 15006,
  /** Where captured outbound connections are delivered. */
  outbound: 15001,
  /** HBONE (HTTP/2 CONNECT over mTLS) listener. */
  hbone: 15008,
} as const;

/**
 * Every port the proxy owns, named once (ztunnel's `illegal_ports` come from one such table):
 * the capture ports and HBONE ({@link DEFAULT_PORTS}), the admin endpoints (15020, Istio's
 * merged-metrics port), the SNI gateway (15443, as the hbone project uses it), the reverse-tunnel
 * acceptor (15009) and the metadata proxy's capture port (15081). Every default elsewhere is
 * taken from here.
 */
export const PROXY_PORTS = {
  ...DEFAULT_PORTS,
  /** The admin endpoints: /metrics /healthz /readyz /status. */
  admin: 15020,
  /** The SNI gateway: TLS sessions routed by server name through HBONE. */
  sniGateway: 15443,
  /** Reverse tunnels (H2R): workloads behind NAT dial in here. */
  reverseTunnel: 15009,
  /** Where captured metadata-endpoint connections arrive in each Docker client's network. */
  metadata: 15081,
} as const;

/**
 * Socket mark (SO_MARK) that the proxies put on their own upstream connections and that the
 * capture rules let through, so the proxy's traffic is never captured again. 0x539 is 1337,
 * the value Istio uses for the same purpose.
 */
export const DEFAULT_BYPASS_MARK = 0x539;

/** The id a policy gets when it does not name one. */
export const DEFAULT_POLICY_ID = 'default';

/** Capture of connections arriving for the workload. */
export interface InboundCapture {
  /** Local port of the inbound proxy that receives captured connections. Default {@link DEFAULT_PORTS}.inbound. */
  port?: number;
  /** Capture only connections to these local ports. Default: every port. */
  includePorts?: PortSpec[];
  /** Never capture connections to these local ports (health probes, a proxy's own listener such as 15008). */
  excludePorts?: PortSpec[];
}

/** Capture of connections the workload opens. */
export interface OutboundCapture {
  /** Local port of the outbound proxy that receives captured connections. Default {@link DEFAULT_PORTS}.outbound. */
  port?: number;
  /** Capture only connections to these destination CIDRs. Default: every destination. */
  includeCidrs?: string[];
  /** Never capture connections to these destination CIDRs. */
  excludeCidrs?: string[];
  /** Capture only connections to these destination ports. Default: every port. */
  includePorts?: PortSpec[];
  /** Never capture connections to these destination ports. */
  excludePorts?: PortSpec[];
}

/**
 * How the proxy's own traffic is recognised and let through uncaptured. Linux drivers match
 * `mark`, `uid` and `gid`; Windows matches `userSid` as a prefix (a group SID such as
 * `S-1-5-32-556` matches every user SID that starts with it).
 */
export interface BypassIdentity {
  /** Socket mark of the proxy's connections. Default: the driver's own ({@link DEFAULT_BYPASS_MARK} on Linux). */
  mark?: number;
  /** Traffic from processes of this user id is never captured. */
  uid?: number;
  /** Traffic from processes of this group id is never captured. */
  gid?: number;
  /** Windows user or group SID whose traffic is never captured (prefix match). */
  userSid?: string;
}

/** A redirection policy as a user writes it (JSON or YAML). Every field but one capture is optional. */
export interface RedirectionPolicy {
  /** Names the policy on its target; applying a policy with the same id replaces it. Default `"default"`. */
  id?: string;
  /** Protocol to capture. Default `"tcp"`. */
  protocol?: Protocol;
  /** IP families to capture. Default both. */
  families?: IpFamily[];
  /** Capture inbound connections. At least one of `inbound` and `outbound` is required. */
  inbound?: InboundCapture;
  /** Capture outbound connections. */
  outbound?: OutboundCapture;
  /** The proxy's own identity, whose traffic is let through. */
  bypass?: BypassIdentity;
  /**
   * 0–65535; when policies overlap, the lower number is evaluated first (HNS semantics). Default 0.
   * The tproxy driver records it but keeps one policy per namespace, so it has no effect there.
   */
  priority?: number;
}

/** {@link InboundCapture} with every default filled in and every list normalized. */
export interface NormalizedInbound {
  port: number;
  includePorts: PortRange[];
  excludePorts: PortRange[];
}

/** {@link OutboundCapture} with every default filled in; CIDRs canonical (`10.0.0.0/8`, `fd00::/8`). */
export interface NormalizedOutbound {
  port: number;
  includeCidrs: string[];
  excludeCidrs: string[];
  includePorts: PortRange[];
  excludePorts: PortRange[];
}

/**
 * {@link BypassIdentity} after normalization. `mark` stays absent when the user gave none, so a
 * driver can tell "use your default" from an explicit mark (Linux drivers then use
 * {@link DEFAULT_BYPASS_MARK}; the HNS driver, which cannot match marks, refuses only explicit ones).
 */
export interface NormalizedBypass {
  mark?: number;
  uid?: number;
  gid?: number;
  userSid?: string;
}

/** A validated policy with every default filled in; what drivers receive. */
export interface NormalizedPolicy {
  id: string;
  protocol: Protocol;
  families: IpFamily[];
  inbound?: NormalizedInbound;
  outbound?: NormalizedOutbound;
  bypass: NormalizedBypass;
  priority: number;
}
