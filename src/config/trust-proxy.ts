import { compile } from 'proxy-addr';

/**
 * Which proxies in front of the service may name the client (X-Forwarded-For), in the form
 * Express's `trust proxy` setting takes: a number of hops, or the proxies' addresses, CIDRs and
 * named ranges (`loopback`, `linklocal`, `uniquelocal`). Undefined: trust none, the TCP peer is
 * the client. `true` (trust any) is refused: any caller could then pick its own address and
 * escape the per-address limit on failed admin authentications.
 */
export type TrustProxy = number | string[];

const MAX_HOPS = 32;
const MAX_ENTRIES = 64;

/** TRUST_PROXY's value, or the reason it is not one (the message names the variable). */
export function parseTrustProxy(text: string): TrustProxy | { error: string } {
  const value = text.trim();
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return hops >= 1 && hops <= MAX_HOPS
      ? hops
      : { error: `TRUST_PROXY must be a hop count from 1 to ${MAX_HOPS}, or a list of addresses` };
  }
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.length === 0 || entries.length > MAX_ENTRIES) {
    return { error: `TRUST_PROXY must list 1 to ${MAX_ENTRIES} proxy addresses or ranges` };
  }
  for (const entry of entries) {
    try {
      compile(entry);
    } catch {
      return {
        error: `TRUST_PROXY: "${entry.slice(0, 64)}" is not an IP address, a CIDR, loopback, linklocal or uniquelocal`,
      };
    }
  }
  return entries;
}

/** Why `text` is not a TRUST_PROXY value, or undefined when it is one (blank means unset). */
export function trustProxyProblem(text: string): string | undefined {
  if (text.trim() === '') {
    return undefined;
  }
  const parsed = parseTrustProxy(text);
  return typeof parsed === 'object' && !Array.isArray(parsed) ? parsed.error : undefined;
}
