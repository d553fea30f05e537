import { isIP, isIPv6 } from 'node:net';
import * as ipaddr from 'ipaddr.js';

export type SsrfVerdict = { allowed: true } | { allowed: false; reason: string };

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [Address, number];

/** A connection refused because the address it would reach is not on the public internet. */
export class SsrfBlockedError extends Error {
  readonly code = 'SSRF_BLOCKED';
  constructor(
    readonly host: string,
    readonly reason: string,
  ) {
    super(`refused to connect to ${host}: ${reason}`);
    this.name = 'SsrfBlockedError';
  }
}

/** An operator allow-list entry that is not an address or CIDR: a configuration error at start-up. */
export class InvalidCidrError extends Error {
  readonly code = 'INVALID_CIDR';
  constructor(readonly value: string) {
    super(`not an IP address or CIDR: ${JSON.stringify(value)}`);
    this.name = 'InvalidCidrError';
  }
}

interface NamedRange {
  cidr: string;
  name: string;
}

function parseRanges(list: NamedRange[]): { range: Cidr; cidr: string; name: string }[] {
  return list.map((entry) => ({ ...entry, range: ipaddr.parseCIDR(entry.cidr) }));
}

/** IANA special-purpose IPv4 blocks a customer webhook has no business reaching. */
const BLOCKED_V4 = parseRanges([
  { cidr: '0.0.0.0/8', name: 'unspecified' },
  { cidr: '10.0.0.0/8', name: 'private' },
  { cidr: '100.64.0.0/10', name: 'carrier-grade NAT' },
  { cidr: '127.0.0.0/8', name: 'loopback' },
  { cidr: '169.254.0.0/16', name: 'link-local, incl. cloud metadata' },
  { cidr: '172.16.0.0/12', name: 'private' },
  { cidr: '192.0.0.0/24', name: 'IETF protocol assignments' },
  { cidr: '192.0.2.0/24', name: 'documentation' },
  { cidr: '192.88.99.0/24', name: '6to4 relay anycast' },
  { cidr: '192.168.0.0/16', name: 'private' },
  { cidr: '198.18.0.0/15', name: 'benchmarking' },
  { cidr: '198.51.100.0/24', name: 'documentation' },
  { cidr: '203.0.113.0/24', name: 'documentation' },
  { cidr: '224.0.0.0/4', name: 'multicast' },
  { cidr: '255.255.255.255/32', name: 'broadcast' },
  { cidr: '240.0.0.0/4', name: 'reserved' },
]);

/**
 * IPv6 blocks refused outright. Everything outside global unicast (2000::/3) is refused anyway;
 * these are listed so the reason names the range, and so the blocks inside 2000::/3 are caught.
 */
const BLOCKED_V6 = parseRanges([
  { cidr: '::/128', name: 'unspecified' },
  { cidr: '::1/128', name: 'loopback' },
  // Deprecated IPv4-compatible form (RFC 4291): no legitimate receiver, and some stacks route it.
  { cidr: '::/96', name: 'IPv4-compatible' },
  { cidr: '64:ff9b:1::/48', name: 'local-use NAT64' },
  { cidr: 'fe80::/10', name: 'link-local' },
  { cidr: 'fec0::/10', name: 'site-local' },
  { cidr: 'fc00::/7', name: 'unique-local, incl. cloud metadata' },
  { cidr: 'ff00::/8', name: 'multicast' },
  // Teredo hides the real endpoints (obfuscated) in the address, so it cannot be checked.
  { cidr: '2001::/32', name: 'Teredo' },
  { cidr: '2001::/23', name: 'IETF protocol assignments' },
  { cidr: '2001:db8::/32', name: 'documentation' },
  { cidr: '3fff::/20', name: 'documentation' },
]);

/** IPv6 forms that carry an IPv4 address a gateway will dial: judged by that IPv4 address. */
const EMBEDDING_V6: { range: Cidr; name: string; embedded: (a: ipaddr.IPv6) => ipaddr.IPv4 }[] = [
  {
    range: ipaddr.parseCIDR('64:ff9b::/96'),
    name: 'NAT64',
    embedded: (a) => v4FromParts(a.parts[6], a.parts[7]),
  },
  {
    range: ipaddr.parseCIDR('2002::/16'),
    name: '6to4',
    embedded: (a) => v4FromParts(a.parts[1], a.parts[2]),
  },
];

const GLOBAL_UNICAST_V6: Cidr = ipaddr.parseCIDR('2000::/3');

function v4FromParts(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/**
 * Parses an address the way the network stack will read it. ipaddr.js reads `::a.b.c.d` as the
 * mapped `::ffff:a.b.c.d`, but it is the IPv4-compatible `::xxxx:xxxx`, so a dotted tail is turned
 * into two hex groups first. IPv4 keeps ipaddr.js's lenient reading (hex, octal, one number): an
 * odd spelling is then judged by the address it means, never waved through.
 */
function parseAddress(text: string): Address | undefined {
  if (isIPv6(text)) {
    const hexTail = text.replace(
      /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?=%|$)/,
      (_match, a: string, b: string, c: string, d: string) =>
        `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`,
    );
    return ipaddr.IPv6.parse(hexTail);
  }
  return ipaddr.IPv4.isValid(text) ? ipaddr.IPv4.parse(text) : undefined;
}

/** `::ffff:a.b.c.d` (also written `::ffff:7f00:1`) is the IPv4 address itself on a dual stack. */
function normalise(address: Address): Address {
  return address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress()
    ? address.toIPv4Address()
    : address;
}

function inRange(address: Address, [network, bits]: Cidr): boolean {
  // match() throws across families, so compare kinds first.
  return address.kind() === network.kind() && address.match(network, bits);
}

function parseAllowEntry(entry: string): Cidr {
  const [text, bitsText, ...rest] = entry.trim().split('/');
  // Dotted quads only: read leniently, `10/8` would silently mean 0.0.0.10/8.
  const network =
    isIPv6(text) || ipaddr.IPv4.isValidFourPartDecimal(text) ? parseAddress(text) : undefined;
  const maxBits = network?.kind() === 'ipv4' ? 32 : 128;
  const bits = bitsText === undefined ? maxBits : Number(bitsText);
  if (
    network === undefined ||
    rest.length > 0 ||
    !/^\d+$/.test(bitsText ?? '0') ||
    bits > maxBits
  ) {
    throw new InvalidCidrError(entry);
  }
  // Addresses are normalised to IPv4 before matching, so a mapped allow entry must be too.
  if (network instanceof ipaddr.IPv6 && network.isIPv4MappedAddress() && bits >= 96) {
    return [network.toIPv4Address(), bits - 96];
  }
  return [network, bits];
}

const ALLOWED: SsrfVerdict = { allowed: true };

function refused(reason: string): SsrfVerdict {
  return { allowed: false, reason };
}

/**
 * Decides whether an address may be dialled for a customer webhook. The webhook URL is customer
 * input, so without this a customer could make our workers call internal services or the cloud
 * metadata endpoint and read the answer from the attempt log.
 */
export class SsrfGuard {
  private readonly allow: Cidr[];

  /** @param allowCidrs operator exceptions (for example `127.0.0.1/32` for a local receiver). */
  constructor(allowCidrs: string[]) {
    this.allow = allowCidrs.filter((entry) => entry.trim() !== '').map(parseAllowEntry);
  }

  /** Checks one IP address; anything that is not an IP address is refused. */
  check(address: string): SsrfVerdict {
    const raw = parseAddress(address);
    if (raw === undefined) {
      return refused(`${JSON.stringify(address)} is not an IP address`);
    }
    const parsed = normalise(raw);
    const shown = parsed.toString();
    // The allow-list is matched against the address actually dialled, after normalisation, so
    // `::ffff:127.0.0.1` is allowed exactly when 127.0.0.1 is.
    if (this.allow.some((range) => inRange(parsed, range))) {
      return ALLOWED;
    }
    if (parsed instanceof ipaddr.IPv4) {
      return this.checkV4(parsed, shown);
    }
    return this.checkV6(parsed, shown);
  }

  /**
   * The create-time check of a webhook URL. Host names pass here: their addresses can change,
   * so they are checked on every connect instead.
   */
  checkUrl(url: string): SsrfVerdict {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return refused('not a valid absolute URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      return refused(`scheme ${parsed.protocol} is not allowed; use https (or http)`);
    }
    if (parsed.username !== '' || parsed.password !== '') {
      return refused('credentials in the URL are not allowed');
    }
    // WHATWG URL has already rewritten decimal, hex and octal IPv4 forms to dotted quads and
    // IPv6 to its compressed form, so `hostname` is either a literal or a name.
    const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
    if (isIP(host) !== 0) {
      return this.check(host);
    }
    const name = host.toLowerCase().replace(/\.$/, '');
    // RFC 6761: resolvers may answer these with loopback without asking DNS.
    if ((name === 'localhost' || name.endsWith('.localhost')) && !this.check('127.0.0.1').allowed) {
      return refused(`${name} resolves to loopback`);
    }
    return ALLOWED;
  }

  private checkV4(address: ipaddr.IPv4, shown: string): SsrfVerdict {
    const hit = BLOCKED_V4.find(({ range }) => inRange(address, range));
    return hit ? refused(`${shown} is in ${hit.cidr} (${hit.name})`) : ALLOWED;
  }

  private checkV6(address: ipaddr.IPv6, shown: string): SsrfVerdict {
    const hit = BLOCKED_V6.find(({ range }) => inRange(address, range));
    if (hit) {
      return refused(`${shown} is in ${hit.cidr} (${hit.name})`);
    }
    const embedding = EMBEDDING_V6.find(({ range }) => inRange(address, range));
    if (embedding) {
      const inner = embedding.embedded(address);
      const verdict = this.checkV4(inner, inner.toString());
      return verdict.allowed
        ? ALLOWED
        : refused(
            `${shown} is a ${embedding.name} address of ${inner.toString()}: ${verdict.reason}`,
          );
    }
    if (!inRange(address, GLOBAL_UNICAST_V6)) {
      return refused(`${shown} is outside global unicast 2000::/3`);
    }
    return ALLOWED;
  }
}
