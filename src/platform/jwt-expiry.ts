/**
 * Reads `exp` from a JWT without verifying it (we are the bearer, not the audience: the server
 * verifies). Returns milliseconds since the epoch, or undefined when the token has no readable
 * `exp`. Never throws and never echoes the token, so callers may use it on untrusted input.
 */
export function jwtExpiresAtMs(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === '' || !/^[A-Za-z0-9_-]+={0,2}$/.test(parts[1])) {
    return undefined;
  }
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    return undefined;
  }
  const exp = (claims as Record<string, unknown>).exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp) || exp <= 0) {
    return undefined;
  }
  return exp * 1000;
}
