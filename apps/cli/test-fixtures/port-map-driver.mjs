// A driver for tests, loaded with --driver-module: the memory driver's loopback sockets, except
// that a connection's "original destination" is looked up by the port it arrived on
// (--driver-option map='{"15001":"127.0.0.2:15006"}'), standing in for what capture would report.
// It lets a proxy carry real traffic on loopback without root or namespaces.
import { DRIVER_API_VERSION, defineDriver } from '@switchyard/core';
import { memoryDriver } from '@switchyard/core/memory';

export default defineDriver({
  name: 'port-map',
  apiVersion: DRIVER_API_VERSION,
  description: 'tests: loopback sockets whose original destination is looked up by arrival port',
  create(options) {
    const map = new Map(Object.entries(options.map ?? {}));
    const base = memoryDriver();
    return {
      ...base,
      name: 'port-map',
      socketOps: {
        ...base.socketOps,
        originalDestination(socket) {
          const to = map.get(String(socket.localPort));
          if (!to) return base.socketOps.originalDestination(socket);
          const [address, port] = to.split(':');
          return { address, port: Number(port), family: 'ipv4' };
        },
      },
    };
  },
});
