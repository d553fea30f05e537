import { createHash, timingSafeEqual } from 'node:crypto';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** Keys are compared as SHA-256 digests, so the comparison is constant-time whatever the lengths. */
export function digestKey(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The token of an `Authorization: Bearer <token>` header, if that is what the header holds. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
}

/** Whether `presented` is one of the keys whose digests are given. Checks every key (no early exit). */
export function matchesAnyKey(presented: string, digests: readonly Buffer[]): boolean {
  const candidate = digestKey(presented);
  let found = false;
  for (const expected of digests) {
    if (timingSafeEqual(candidate, expected)) {
      found = true;
    }
  }
  return found;
}
