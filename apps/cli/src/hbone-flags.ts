import { InputInvalidError } from '@switchyard/core';
import { HBONE_PORT, type HboneAuthority, parseAuthority, type SniRoute } from '@switchyard/hbone';

function endpoint(flag: string, text: string): HboneAuthority {
  const parsed = parseAuthority(text);
  if (!parsed)
    throw new InputInvalidError(
      `${flag} ${text}: expected an IP address and port, e.g. 10.0.0.7:8443 or [fd00::7]:8443`,
    );
  return parsed;
}

/**
 * Parses `--sni-route NAME=DEST[@PEER]`: sessions whose SNI is NAME go to DEST (ip:port) through
 * the HBONE peer PEER (default: DEST's address on port 15008).
 */
export function parseSniRoute(text: string): [string, SniRoute] {
  const m = /^([^=\s]+)=([^@\s]+)(?:@(\S+))?$/.exec(text);
  if (!m)
    throw new InputInvalidError(
      `--sni-route ${text}: expected NAME=DEST_IP:PORT[@PEER_IP:PORT], e.g. api.web=10.0.0.7:8443`,
    );
  const destination = endpoint('--sni-route', m[2] as string);
  const peer = m[3] ? endpoint('--sni-route', m[3]) : { address: destination.address, port: HBONE_PORT };
  return [(m[1] as string).toLowerCase(), { destination, peer }];
}

/** Parses `--reverse-gateway IP:PORT`. */
export function parseGateway(text: string): HboneAuthority {
  return endpoint('--reverse-gateway', text);
}
