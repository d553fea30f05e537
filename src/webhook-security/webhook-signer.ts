import { createHmac, randomBytes } from 'node:crypto';

/** Standard Webhooks marks symmetric secrets with this prefix; the key is the base64 after it. */
const SECRET_PREFIX = 'whsec_';
/** Strict standard-alphabet base64 with padding, as the official libraries' decoder demands. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** The spec asks for 24 to 64 random bytes; we generate 32. */
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;
const GENERATED_KEY_BYTES = 32;

/** A secret that cannot be turned into a signing key: a bug or corrupt data, never retried. */
export class InvalidSecretError extends Error {
  readonly code = 'INVALID_WEBHOOK_SECRET';
  constructor(reason: string) {
    super(`invalid webhook secret: ${reason}`);
    this.name = 'InvalidSecretError';
  }
}

export interface SignInput {
  /** The `webhook-id` header value; stable across retries of one delivery. */
  msgId: string;
  /** The `webhook-timestamp` header value (Unix seconds); fresh on every attempt. */
  timestampSec: number;
  /** The exact bytes sent as the body, as a UTF-8 string. */
  body: string;
  /** Every currently valid secret; more than one while a rotation overlaps. */
  secrets: string[];
}

/**
 * The key exactly as the `standardwebhooks` and `svix` libraries derive it: drop the prefix when
 * present, base64-decode the rest. Buffer.from(…, 'base64') silently skips bad characters, which
 * would sign with a key no receiver holds, so the text is checked first.
 */
function decodeKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (encoded === '' || !BASE64.test(encoded)) {
    throw new InvalidSecretError('not base64 after the whsec_ prefix');
  }
  return Buffer.from(encoded, 'base64');
}

/** Decoded keys kept at most; a secret is decoded (checked, base64) once, not on every attempt. */
const MAX_CACHED_KEYS = 10_000;

/** Produces the `webhook-signature` header value of the Standard Webhooks `v1` (HMAC-SHA256) scheme. */
export class WebhookSigner {
  private readonly keys = new Map<string, Buffer>();

  private keyOf(secret: string): Buffer {
    let key = this.keys.get(secret);
    if (key === undefined) {
      key = decodeKey(secret);
      if (this.keys.size >= MAX_CACHED_KEYS) {
        this.keys.clear();
      }
      this.keys.set(secret, key);
    }
    return key;
  }

  sign(input: SignInput): string {
    if (input.secrets.length === 0) {
      throw new InvalidSecretError('no secret to sign with');
    }
    if (!Number.isSafeInteger(input.timestampSec) || input.timestampSec < 0) {
      throw new RangeError(`timestampSec must be whole Unix seconds, got ${input.timestampSec}`);
    }
    // The signed content is `${msgId}.${timestamp}.${body}`, fed in two parts so the body is not
    // copied into a new string for every secret.
    const prefix = `${input.msgId}.${input.timestampSec}.`;
    // One signature per secret, space-separated: receivers still on the old secret keep verifying
    // during a rotation, and receivers already on the new one verify too.
    return input.secrets
      .map((secret) => {
        const digest = createHmac('sha256', this.keyOf(secret))
          .update(prefix, 'utf8')
          .update(input.body, 'utf8')
          .digest('base64');
        return `v1,${digest}`;
      })
      .join(' ');
  }
}

/** A fresh secret for a new endpoint or a rotation: `whsec_` + base64 of 32 random bytes. */
export function generateSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(GENERATED_KEY_BYTES).toString('base64')}`;
}

/**
 * Whether a secret may be stored for an endpoint (for example one a customer brings): the prefix,
 * strict base64, and a key of 24 to 64 bytes as the spec recommends. Signing itself is more lenient
 * (any key the official libraries accept), so a stored secret never becomes unusable.
 */
export function isValidSecret(secret: string): boolean {
  if (!secret.startsWith(SECRET_PREFIX)) {
    return false;
  }
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!BASE64.test(encoded)) {
    return false;
  }
  const bytes = Buffer.from(encoded, 'base64').length;
  return bytes >= MIN_KEY_BYTES && bytes <= MAX_KEY_BYTES;
}
