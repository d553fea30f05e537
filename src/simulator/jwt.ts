import { createHmac, timingSafeEqual } from 'node:crypto';

/** Claims Opentact puts in its JWTs (decoded from the documentation's examples). */
export interface JwtClaims {
  uuid: string;
  role: string;
  iat: number;
  exp: number;
  [claim: string]: unknown;
}

export type JwtErrorCode = 'malformed' | 'unsupported_alg' | 'bad_signature' | 'expired';

export class JwtError extends Error {
  constructor(
    readonly code: JwtErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'JwtError';
  }
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

function signature(signingInput: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(signingInput).digest();
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Signs arbitrary claims with HS256, the algorithm Opentact's tokens use. */
export function signJwt(claims: Record<string, unknown>, secret: string): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signingInput = `${HEADER}.${body}`;
  return `${signingInput}.${signature(signingInput, secret).toString('base64url')}`;
}

/** Issues a token shaped like Opentact's: `{ uuid, role, iat, exp }` with `exp = iat + ttl`. */
export function issueJwt(
  subject: { uuid: string; role: string },
  secret: string,
  ttlSeconds: number,
  issuedAt: number = nowSeconds(),
): string {
  return signJwt(
    { uuid: subject.uuid, role: subject.role, iat: issuedAt, exp: issuedAt + ttlSeconds },
    secret,
  );
}

function decodeSegment(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
  } catch {
    throw new JwtError('malformed', 'token segment is not base64url JSON');
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Verifies signature and expiry. Throws a JwtError whose `code` says why a token was refused, so
 * callers can log the reason while still answering a plain 401 (as Opentact does).
 */
export function verifyJwt(token: string, secret: string, now: number = nowSeconds()): JwtClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((part) => part === '')) {
    throw new JwtError('malformed', 'token must have three non-empty segments');
  }
  const [headerSegment, bodySegment, signatureSegment] = parts;
  const header = decodeSegment(headerSegment);
  if (!isRecord(header) || header.alg !== 'HS256') {
    // Refusing every other alg (including "none") is what stops alg-confusion forgeries.
    throw new JwtError('unsupported_alg', 'only HS256 tokens are accepted');
  }
  const expected = signature(`${headerSegment}.${bodySegment}`, secret);
  const given = Buffer.from(signatureSegment, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new JwtError('bad_signature', 'token signature does not match');
  }
  const claims = decodeSegment(bodySegment);
  if (
    !isRecord(claims) ||
    typeof claims.uuid !== 'string' ||
    typeof claims.role !== 'string' ||
    typeof claims.iat !== 'number' ||
    typeof claims.exp !== 'number'
  ) {
    throw new JwtError('malformed', 'token claims must carry uuid, role, iat and exp');
  }
  if (claims.exp <= now) {
    throw new JwtError('expired', 'token has expired');
  }
  return claims as JwtClaims;
}
