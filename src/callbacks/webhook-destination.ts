/**
 * The address guard of webhook deliveries (server-side request forgery): a webhook URL must be
 * https (http only with `webhooks.allowHttp`), carry no credentials, and every address its host
 * resolves to must be public — not loopback, private, shared (CGNAT), link-local (cloud metadata
 * included), multicast, reserved or unspecified — unless a CIDR of `webhooks.allowedNetworks`
 * contains it. Checked when a webhook is created or changed AND before each delivery, which then
 * connects to the very address that was checked (no second DNS answer can slip in between).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

export interface DestinationPolicy {
  readonly allowHttp: boolean;
  /** CIDRs (`127.0.0.0/8`, `fd00::/8`) whose addresses are allowed although not public. */
  readonly allowedNetworks: readonly string[];
}

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to all its addresses (injectable for tests). */
export type Resolve = (host: string) => Promise<readonly ResolvedAddress[]>;

export const systemResolve: Resolve = async (host) => {
  const found = await dnsLookup(host, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** The destination is not allowed: never retried, and a 400 at create. */
export class DestinationRefusedError extends Error {
  override readonly name = 'DestinationRefusedError';
}

const NON_PUBLIC_V4: readonly (readonly [string, number])[] = [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // shared address space (CGNAT; some cloud metadata)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];

const NON_PUBLIC_V6: readonly (readonly [string, number])[] = [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b::', 96], // NAT64: likewise
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local (AWS metadata fd00:ec2::254)
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
];

function blockListOf(v4: readonly (readonly [string, number])[], v6: readonly (readonly [string, number])[]) {
  const list = new BlockList();
  for (const [net, prefix] of v4) list.addSubnet(net, prefix, 'ipv4');
  for (const [net, prefix] of v6) list.addSubnet(net, prefix, 'ipv6');
  return list;
}

const NON_PUBLIC = blockListOf(NON_PUBLIC_V4, NON_PUBLIC_V6);

/** `a.b.c.d/n` or `v6::/n`; undefined when it is not one. */
export function parseCidr(cidr: string): { net: string; prefix: number; family: 4 | 6 } | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(cidr.trim());
  if (!match) return undefined;
  const family = isIP(match[1]!);
  const prefix = Number(match[2]);
  if (family === 0 || prefix > (family === 4 ? 32 : 128)) return undefined;
  return { net: match[1]!, prefix, family: family === 4 ? 4 : 6 };
}

export class DestinationGuard {
  private readonly allowed = new BlockList();

  constructor(
    private readonly policy: DestinationPolicy,
    private readonly resolve: Resolve = systemResolve,
  ) {
    for (const cidr of policy.allowedNetworks) {
      const parsed = parseCidr(cidr);
      if (!parsed) throw new Error(`not a CIDR: ${cidr}`);
      this.allowed.addSubnet(parsed.net, parsed.prefix, parsed.family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  /** The URL's own problems (scheme, credentials), without resolving it; undefined when none. */
  urlProblem(url: URL): string | undefined {
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.policy.allowHttp)) {
      return this.policy.allowHttp ? 'must be an http or https URL' : 'must be an https URL';
    }
    if (url.username !== '' || url.password !== '') return 'must not carry credentials';
    return undefined;
  }

  isAllowedAddress(address: string, family: 4 | 6): boolean {
    const type = family === 4 ? 'ipv4' : 'ipv6';
    return this.allowed.check(address, type) || !NON_PUBLIC.check(address, type);
  }

  /**
   * The address to connect to for `url`: every address the host resolves to must be allowed (a
   * name that also answers with an internal address is refused as a whole).
   * @throws DestinationRefusedError when the URL or an address is not allowed
   * @throws Error when the name does not resolve (a connection error: retried)
   */
  async check(url: URL): Promise<ResolvedAddress> {
    const problem = this.urlProblem(url);
    if (problem !== undefined) throw new DestinationRefusedError(`the URL ${problem}`);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const literal = isIP(host);
    const addresses: readonly ResolvedAddress[] =
      literal === 0 ? await this.resolve(host) : [{ address: host, family: literal === 4 ? 4 : 6 }];
    if (addresses.length === 0) throw new Error(`${host} has no address`);
    for (const { address, family } of addresses) {
      if (!this.isAllowedAddress(address, family)) {
        throw new DestinationRefusedError(
          `${host} resolves to ${address}, which is not a public address (webhooks.allowedNetworks can allow it)`,
        );
      }
    }
    return addresses[0]!;
  }
}
