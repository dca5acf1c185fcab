import type { ContainerInfo, ContainerInspectInfo } from 'dockerode';

/** Where a running container's network lives, as the capture drivers need it. */
export type ContainerNetwork =
  /** Linux: the network namespace of the container's first process. */
  | { kind: 'netns'; path: string }
  /** Windows: the container's address, by which its HNS endpoint is found. */
  | { kind: 'hns'; ip: string };

/** A running container as the agent sees it: only what capture and metadata proxying use. */
export interface DockerContainer {
  id: string;
  /** Its name without Docker's leading `/`. */
  name: string;
  labels: Readonly<Record<string, string>>;
  /** The container's first process on the host (`State.Pid`). */
  pid: number;
  /** When it last started (`State.StartedAt`), ISO 8601. */
  startedAt: string;
  /** Its addresses on every network it is attached to, IPv4 first. */
  ips: string[];
  /** Undefined for a container on the host's network: the agent never touches those. */
  network: ContainerNetwork | undefined;
}

/**
 * Reads a container from `GET /containers/{id}/json`. A container that is not running (no
 * process, so no network to act on) gives undefined.
 */
export function containerFromInspect(
  info: ContainerInspectInfo,
  platform: NodeJS.Platform = process.platform,
): DockerContainer | undefined {
  if (!info.State?.Running || !info.State.Pid) return undefined;
  const networks = Object.values(info.NetworkSettings?.Networks ?? {});
  const ips = [
    ...networks.map((n) => n.IPAddress).filter(Boolean),
    ...networks.map((n) => n.GlobalIPv6Address).filter(Boolean),
  ];
  const hostNetwork = info.HostConfig?.NetworkMode === 'host';
  const network: ContainerNetwork | undefined = hostNetwork
    ? undefined
    : platform === 'win32'
      ? ips[0]
        ? { kind: 'hns', ip: ips[0] }
        : undefined
      : { kind: 'netns', path: `/proc/${info.State.Pid}/ns/net` };
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    labels: info.Config?.Labels ?? {},
    pid: info.State.Pid,
    startedAt: info.State.StartedAt,
    ips,
    network,
  };
}

/**
 * Reads a container that is starting from its `GET /containers/json` entry and its first
 * process's pid (the runtime's): its addresses are not reported yet, so they are read from its
 * network later. Windows containers are found by address, so none is known this early.
 */
export function containerFromList(
  info: ContainerInfo,
  pid: number,
  platform: NodeJS.Platform = process.platform,
): DockerContainer | undefined {
  const hostNetwork = info.HostConfig?.NetworkMode === 'host';
  return {
    id: info.Id,
    name: (info.Names?.[0] ?? info.Id).replace(/^\//, ''),
    labels: info.Labels ?? {},
    pid,
    startedAt: new Date().toISOString(),
    ips: [],
    network: hostNetwork || platform === 'win32' ? undefined : { kind: 'netns', path: `/proc/${pid}/ns/net` },
  };
}
