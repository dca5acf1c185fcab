import type { SocketOps } from '@switchyard/core';
import { loopbackSocketOps } from '@switchyard/core/memory';

/**
 * Socket operations for HNS: `L4WFPPROXY` hands a container's connections to a proxy on the
 * host, so a listener or a dial "for" an HNS endpoint is opened in the host's own network. Any
 * other target kind is refused as the loopback operations refuse it.
 */
export function hostSocketOps(): SocketOps {
  const ops = loopbackSocketOps();
  const onHost = <T extends { target?: { kind: string } }>(o: T): T => {
    if (o.target?.kind !== 'hns-endpoint') return o;
    const { target: _served, ...rest } = o;
    return rest as T;
  };
  return {
    ...ops,
    listen: (o) => ops.listen(onHost(o)),
    dial: (o) => ops.dial(onHost(o)),
  };
}
