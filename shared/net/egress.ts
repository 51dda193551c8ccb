/**
 * Where Fanout may connect for a destination (the egress policy). An operator chooses a
 * destination's host, and Fanout then opens a TCP connection there and reports what happened: left
 * open, that is a port scanner of the machine's network and a way to send RTMP handshake bytes to
 * internal services (the cloud metadata endpoint above all). So:
 *
 *   - link-local addresses (169.254.0.0/16, fe80::/10) and the cloud metadata endpoints
 *     (169.254.169.254, fd00:ec2::254, metadata.google.internal, ...) are always refused;
 *   - every address that is not public unicast (loopback, RFC 1918, CGNAT 100.64/10, ULA fc00::/7,
 *     0.0.0.0/8, documentation and benchmarking ranges, ...) is refused unless
 *     FANOUT_EGRESS_ALLOW_PRIVATE is on (the local runtime's default: the machine is the user's own
 *     and the quick start points at a local server) or the host is in FANOUT_EGRESS_ALLOW_HOSTS;
 *   - multicast and broadcast are refused (nothing to publish to).
 *
 * The policy is checked twice: at the door (create/update: the name is resolved and every address
 * it resolves to must pass) and where the local engine connects (`lookup()`, given to
 * `net.connect`/`tls.connect`, so a name that resolves differently by then, DNS rebinding, is
 * checked on the address actually used). Address classification is ipaddr.js's; IPv4-mapped,
 * NAT64 (64:ff9b::/96) and 6to4 IPv6 addresses are judged by the IPv4 address they carry.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Why an address or name is refused (stable tokens, also in problem documents as `reason`). */
export type EgressReason = 'metadata' | 'link-local' | 'multicast' | 'loopback' | 'private' | 'non-public';

/** The settings that open what is refused by default. */
export const EGRESS_SETTINGS = { allowPrivate: 'FANOUT_EGRESS_ALLOW_PRIVATE', allowHosts: 'FANOUT_EGRESS_ALLOW_HOSTS' } as const;

export interface EgressRefusal {
  host: string;
  /** The address refused (null when the name itself is refused, e.g. metadata.google.internal). */
  address: string | null;
  reason: EgressReason;
  /** For people: what the address is and what would allow it. */
  message: string;
  /** The setting that would allow it, or null when nothing can (link-local, metadata, multicast). */
  setting: string | null;
}

export interface EgressPolicyOptions {
  /** Loopback and private ranges allowed (FANOUT_EGRESS_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  /** Extra hosts allowed even when private: host names (exact, case-insensitive), IP addresses or CIDR ranges. */
  allowHosts?: readonly string[];
}

/** One resolved address, as `dns.lookup(..., { all: true })` gives it. */
export type ResolvedAddress = { address: string; family: 4 | 6 };
/** Resolves a host name to its addresses (`dns.lookup` by default; tests inject their own). */
export type HostResolver = (host: string) => Promise<ResolvedAddress[]>;

/** The system resolver (getaddrinfo, as `net.connect` uses), every address. */
export const systemResolver: HostResolver = (host) =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 })))));
  });

/** A refused connection, typed: `code` is EGRESS_REFUSED, never retryable (nothing will change by itself). */
export class EgressRefusedError extends Error {
  readonly code = 'EGRESS_REFUSED';
  constructor(readonly refusal: EgressRefusal) {
    super(refusal.message);
    this.name = 'EgressRefusedError';
  }
}

/** Names of cloud metadata services (every cloud's, since one build runs anywhere). */
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal', 'metadata.azure.com', 'metadata.platformequinix.com']);

/**
 * Metadata addresses outside link-local: AWS's IPv6 IMDS and EKS Pod Identity (in the ULA range,
 * which an allowed private range must not open), Alibaba's (in CGNAT), Oracle's and the ECS task
 * metadata endpoints (link-local anyway, named here for a clearer message).
 */
const METADATA_ADDRESSES = new Set(['169.254.169.254', '169.254.170.2', '169.254.170.23', 'fd00:ec2::254', 'fd00:ec2::23', '100.100.100.200', '192.0.0.192'].map((a) => ipaddr.parse(a).toNormalizedString()));

/** The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4), else null. */
function embeddedIPv4(v6: ipaddr.IPv6): ipaddr.IPv4 | null {
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
  const range = v6.range();
  const b = v6.toByteArray();
  if (range === 'rfc6052' || range === 'rfc6145') return new ipaddr.IPv4(b.slice(12, 16));
  if (range === '6to4') return new ipaddr.IPv4(b.slice(2, 6));
  return null;
}

function describe(reason: EgressReason): string {
  switch (reason) {
    case 'metadata':
      return 'a cloud metadata endpoint';
    case 'link-local':
      return 'a link-local address';
    case 'multicast':
      return 'a multicast or broadcast address';
    case 'loopback':
      return 'a loopback address (this machine)';
    case 'private':
      return 'a private-network address';
    case 'non-public':
      return 'an address that is not public (unspecified, reserved, documentation or benchmarking range)';
  }
}

/** Classifies an address: null when it is public unicast, else why it is not. */
export function classifyAddress(address: string): EgressReason | null {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  } catch {
    return 'non-public';
  }
  if (METADATA_ADDRESSES.has(ip.toNormalizedString())) return 'metadata';
  if (ip.kind() === 'ipv6') {
    const v4 = embeddedIPv4(ip as ipaddr.IPv6);
    if (v4) return classifyAddress(v4.toString());
  }
  const range = ip.range();
  if (range === 'unicast') return null;
  if (range === 'linkLocal') return 'link-local';
  if (range === 'multicast' || range === 'broadcast') return 'multicast';
  if (range === 'loopback') return 'loopback';
  if (range === 'private' || range === 'uniqueLocal' || range === 'carrierGradeNat') return 'private';
  return 'non-public';
}

const ALWAYS_REFUSED: ReadonlySet<EgressReason> = new Set(['metadata', 'link-local', 'multicast']);

/** Whether `entry` (an allow-list entry) is a valid host name, IP address or CIDR range. */
export function isValidAllowEntry(entry: string): boolean {
  if (ipaddr.isValidCIDR(entry) || isIP(entry) !== 0) return true;
  return /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i.test(entry);
}

export class EgressPolicy {
  readonly allowPrivate: boolean;
  readonly #names: ReadonlySet<string>;
  readonly #ranges: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][];

  constructor(o: EgressPolicyOptions) {
    this.allowPrivate = o.allowPrivate;
    const names = new Set<string>();
    const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
    for (const raw of o.allowHosts ?? []) {
      const entry = raw.trim().toLowerCase().replace(/\.$/, '');
      if (entry === '') continue;
      if (ipaddr.isValidCIDR(entry)) ranges.push(ipaddr.parseCIDR(entry));
      else if (isIP(entry) !== 0) {
        const ip = ipaddr.parse(entry);
        ranges.push([ip, ip.kind() === 'ipv4' ? 32 : 128]);
      } else names.add(entry);
    }
    this.#names = names;
    this.#ranges = ranges;
  }

  #listed(address: string): boolean {
    let ip: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      ip = ipaddr.process(address.replace(/%.*$/, ''));
    } catch {
      return false;
    }
    return this.#ranges.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits));
  }

  /** Refusal of a host by its name alone (metadata names), before any resolution. */
  checkName(host: string): EgressRefusal | null {
    const name = host.toLowerCase().replace(/\.$/, '');
    if (METADATA_NAMES.has(name)) return refusal(host, null, 'metadata', null);
    return null;
  }

  /** Refusal of connecting to `address` for `host` (the name it was resolved from, or the literal). */
  checkAddress(host: string, address: string): EgressRefusal | null {
    const reason = classifyAddress(address);
    if (reason === null) return null;
    if (ALWAYS_REFUSED.has(reason)) return refusal(host, address, reason, null);
    const name = host
      .toLowerCase()
      .replace(/^\[|\]$/g, '')
      .replace(/\.$/, '');
    if (this.#names.has(name) || this.#listed(address)) return null;
    if (this.allowPrivate) return null;
    return refusal(host, address, reason, `${EGRESS_SETTINGS.allowPrivate}=on or ${EGRESS_SETTINGS.allowHosts}`);
  }

  /**
   * Checks a host: an IP literal directly, a name by every address `resolve` gives (the engine may
   * connect to any of them). Resolution errors are thrown as they come (callers type them).
   */
  async check(host: string, resolve: HostResolver): Promise<EgressRefusal | null> {
    const bare = host.replace(/^\[|\]$/g, '');
    const byName = isIP(bare) === 0 ? this.checkName(bare) : null;
    if (byName) return byName;
    const addresses = isIP(bare) !== 0 ? [bare] : (await resolve(bare)).map((a) => a.address);
    for (const a of addresses) {
      const r = this.checkAddress(bare, a);
      if (r) return r;
    }
    return null;
  }

  /**
   * A `lookup` for `net.connect` / `tls.connect` that resolves with `dns.lookup` (or `resolver`) and
   * refuses, with an {@link EgressRefusedError}, a name whose addresses the policy does not allow.
   * IP literals never reach a lookup: check them with {@link checkAddress} before connecting.
   */
  lookup(resolver: HostResolver = systemResolver): ConnectLookup {
    return (hostname, options, callback) => {
      const byName = this.checkName(hostname);
      if (byName) {
        callback(new EgressRefusedError(byName) as unknown as NodeJS.ErrnoException, '', 4);
        return;
      }
      resolver(hostname).then(
        (all) => {
          const family = typeof options === 'object' && options !== null ? options.family : undefined;
          const wanted = family === 4 || family === 6 ? all.filter((a) => a.family === family) : all;
          for (const a of wanted) {
            const r = this.checkAddress(hostname, a.address);
            if (r) {
              callback(new EgressRefusedError(r) as unknown as NodeJS.ErrnoException, '', 4);
              return;
            }
          }
          if (wanted.length === 0) {
            const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }) as NodeJS.ErrnoException;
            callback(err, '', 4);
            return;
          }
          if (typeof options === 'object' && options !== null && (options as LookupAllOptions).all) (callback as unknown as AllCallback)(null, wanted as LookupAddress[]);
          else callback(null, wanted[0]!.address, wanted[0]!.family);
        },
        (err: NodeJS.ErrnoException) => callback(err, '', 4),
      );
    };
  }
}

type AllCallback = (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void;
/** The shape `net.connect({ lookup })` calls (with `all: true` when it races IPv4 and IPv6). */
export type ConnectLookup = (hostname: string, options: LookupOneOptions | LookupAllOptions | number, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void) => void;

function refusal(host: string, address: string | null, reason: EgressReason, setting: string | null): EgressRefusal {
  const what = address === null || address === host.replace(/^\[|\]$/g, '') ? `it is ${describe(reason)}` : `it resolves to ${address}, ${describe(reason)}`;
  const allow = setting ? `; allowed only with ${setting}` : '; Fanout never connects there';
  return { host, address, reason, message: `Fanout may not connect to ${host}: ${what}${allow}.`, setting };
}
