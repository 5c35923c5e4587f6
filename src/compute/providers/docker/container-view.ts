/**
 * Reading a tenant's containers as the engine reports them: which one is current, its published
 * ports, endpoints and resource ids. Pure functions of engine documents.
 */
import type { Endpoint } from '../../../domain/tenant.js';
import type { ContainerInspect, ContainerSummary, PortBinding } from './docker-types.js';
import { LABEL, portKey, readRuntimeInfo, type RuntimeInfo } from './container-spec.js';
import { DEFAULT_HOST_IP } from './host-policy.js';

export function labelsOf(container: ContainerSummary | ContainerInspect): Readonly<Record<string, string>> {
  return (isInspect(container) ? container.Config.Labels : container.Labels) ?? {};
}

/** Summaries (list) carry `State` as a string, inspect documents as an object. */
function isInspect(container: ContainerSummary | ContainerInspect): container is ContainerInspect {
  return typeof container.State === 'object' && container.State !== null;
}

export function generationOf(container: ContainerSummary | ContainerInspect): number | null {
  const value = Number(labelsOf(container)[LABEL.generation]);
  return Number.isInteger(value) ? value : null;
}

/**
 * The container that stands for the tenant: running before stopped, then the highest generation,
 * then the newest. Undefined for an empty list.
 */
export function pickCurrent<T extends ContainerSummary>(containers: readonly T[]): T | undefined {
  const rank = (c: T): [number, number, number] => [
    c.State === 'running' ? 1 : 0,
    generationOf(c) ?? -1,
    c.Created ?? 0,
  ];
  return [...containers].sort((a, b) => compareTuples(rank(b), rank(a)))[0];
}

function compareTuples(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function nameOf(container: ContainerSummary | ContainerInspect): string {
  const name = isInspect(container) ? container.Name : (container.Names?.[0] ?? '');
  return name.startsWith('/') ? name.slice(1) : name;
}

export function isRunning(container: ContainerInspect): boolean {
  return container.State.Running === true;
}

export function runtimeInfoOf(container: ContainerInspect): RuntimeInfo {
  return readRuntimeInfo(labelsOf(container)[LABEL.runtime]);
}

/** Where a container port is reachable from this host, or undefined when it is not published. */
export function hostAddress(
  container: ContainerInspect,
  containerPort: number,
  protocol: 'tcp' | 'udp' = 'tcp',
): { host: string; port: number } | undefined {
  if (container.HostConfig?.NetworkMode === 'host') return { host: DEFAULT_HOST_IP, port: containerPort };
  const bindings = container.NetworkSettings?.Ports?.[portKey({ containerPort, protocol })] ?? [];
  for (const binding of bindings) {
    const port = Number(binding.HostPort);
    if (Number.isInteger(port) && port > 0) return { host: reachableHost(binding.HostIp), port };
  }
  return undefined;
}

/** A wildcard bind is reached through loopback; an IPv6 address needs brackets in a URL. */
function reachableHost(hostIp: string | undefined): string {
  if (hostIp === undefined || hostIp === '' || hostIp === '0.0.0.0' || hostIp === '::')
    return DEFAULT_HOST_IP;
  return hostIp.includes(':') ? `[${hostIp}]` : hostIp;
}

/** `http://host:port` per published tcp port (`udp://` for udp), named by the port's `name`. */
export function endpointsOf(container: ContainerInspect): Endpoint[] {
  const ports = runtimeInfoOf(container).ports;
  let httpTaken = ports.some((p) => p.name === 'http');
  const endpoints: Endpoint[] = [];
  for (const port of ports) {
    const address = hostAddress(container, port.containerPort, port.protocol);
    if (address === undefined) continue;
    let name = port.name;
    if (name === undefined && port.protocol === 'tcp' && !httpTaken) [name, httpTaken] = ['http', true];
    name ??= `${port.protocol}-${port.containerPort}`;
    const scheme = port.protocol === 'udp' ? 'udp' : 'http';
    endpoints.push({ name, url: `${scheme}://${address.host}:${address.port}` });
  }
  return endpoints;
}

/**
 * What `describe` reads of a running container, from its list summary alone (state, labels, image,
 * a published host port for every port recorded on it): saves the inspect round trip. Undefined
 * when only an inspect tells — the container is not running, or a recorded port shows no host port
 * in the summary (host networking, or an engine whose list omits ports).
 */
export function inspectFromSummary(summary: ContainerSummary): ContainerInspect | undefined {
  if (summary.State !== 'running') return undefined;
  const ports: Record<string, PortBinding[]> = {};
  for (const port of summary.Ports ?? []) {
    if (port.PublicPort === undefined || port.PublicPort <= 0) continue;
    const key = portKey({ containerPort: port.PrivatePort, protocol: port.Type === 'udp' ? 'udp' : 'tcp' });
    (ports[key] ??= []).push({ HostIp: port.IP ?? '', HostPort: String(port.PublicPort) });
  }
  const labels = summary.Labels ?? {};
  const recorded = readRuntimeInfo(labels[LABEL.runtime]).ports;
  if (recorded.some((p) => ports[portKey(p)] === undefined)) return undefined;
  return {
    Id: summary.Id,
    Name: summary.Names?.[0] ?? '',
    State: { Status: 'running', Running: true },
    Config: { Image: summary.Image, Labels: labels },
    NetworkSettings: { Ports: ports },
  };
}

export function resourcesOf(container: ContainerInspect): Record<string, string> {
  return { containerId: container.Id, containerName: nameOf(container) };
}
