export type AuthAck = 'success' | 'failure' | 'none';

export interface AuthVerdict {
  ack: AuthAck;
  /**
   * A success in a shape other than the documented ack. It is accepted (an unfamiliar wording
   * must not lock a valid account out) and logged at warn, so the shape gets looked at.
   */
  unfamiliar: boolean;
  /** What made it a failure, for the log and the status. */
  signal?: string;
}

/**
 * The documented acknowledgement (reference §2.3):
 * `WSS connection <connection-id>@<ip> - success auth <email>`, and nothing else.
 */
const DOCUMENTED_SUCCESS = /^\s*WSS connection \S+@\S+ - success auth(?:\s+\S+@\S+)?\s*$/i;
/**
 * Words that say a login did not work. Read only outside addresses, so an account called
 * `ops@failover.io` or a connection id cannot refuse itself.
 */
const FAILURE_WORDS =
  /fail|unsuccess|\bnot\s+(?:success|auth|valid|allowed|permitted|accepted|logged)|denied|invalid|unauthori[sz]|forbidden|refus|reject|expired|revoked|\berror\b|\bwrong\b/i;
/** Emails, and the `<connection-id>@<ip>` of the documented message: words in them mean nothing. */
const ADDRESSES = /[\w.!#$%&'*+/=?^`{|}~-]+@[\w.:[\]-]+/g;
const FALSE_SPELLINGS = new Set(['false', '0', 'no']);

/**
 * Judges a frame received while authenticating. Opentact documents only the success ack
 * (`type: "auth"`, the message above and a `payload` describing the connection); failures are
 * undocumented. So any failure signal wins over every success signal:
 *
 * 1. `success` (any case of the key) that is false, "false", 0 or "0";
 * 2. an `error` (any case of the key) that is true, a number other than 0, non-blank text or a
 *    non-empty object; a `status` worded as a failure;
 * 3. failure wording in the message once addresses are taken out.
 *
 * With none of them, the frame is a success: the documented message is familiar, anything else
 * (a `payload`, `success: true`, an unknown wording, nothing at all) is accepted as unfamiliar.
 * `none` means "not an ack": the frame is not of type `auth` and is forwarded as an event.
 */
export function judgeAuthFrame(text: string): AuthVerdict {
  const none: AuthVerdict = { ack: 'none', unfamiliar: false };
  if (!text.includes('"auth"')) {
    return none;
  }
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return none;
  }
  if (!isRecord(frame) || frame.type !== 'auth') {
    return none;
  }
  const signal = failureSignal(frame);
  if (signal !== undefined) {
    return { ack: 'failure', unfamiliar: false, signal };
  }
  const message = typeof frame.message === 'string' ? frame.message : '';
  return { ack: 'success', unfamiliar: !DOCUMENTED_SUCCESS.test(message) };
}

export function classifyAuthFrame(text: string): AuthAck {
  return judgeAuthFrame(text).ack;
}

function failureSignal(frame: Record<string, unknown>): string | undefined {
  for (const [key, value] of Object.entries(frame)) {
    const name = key.toLowerCase();
    if (name === 'success' && saysFalse(value)) {
      return `${key}: ${JSON.stringify(value)}`;
    }
    if (name === 'error' && isError(value)) {
      return key;
    }
    if (name === 'status' && typeof value === 'string' && FAILURE_WORDS.test(value)) {
      return key;
    }
  }
  if (typeof frame.message === 'string' && FAILURE_WORDS.test(withoutAddresses(frame.message))) {
    return 'message';
  }
  return undefined;
}

function saysFalse(value: unknown): boolean {
  if (value === false || value === 0) {
    return true;
  }
  return typeof value === 'string' && FALSE_SPELLINGS.has(value.trim().toLowerCase());
}

function isError(value: unknown): boolean {
  if (value === true) {
    return true;
  }
  if (typeof value === 'number') {
    return value !== 0 && !Number.isNaN(value);
  }
  if (typeof value === 'string') {
    return value.trim() !== '' && !FALSE_SPELLINGS.has(value.trim().toLowerCase());
  }
  if (Array.isArray(value)) {
    return value.length > 0;
  }
  return isRecord(value) && Object.keys(value).length > 0;
}

function withoutAddresses(message: string): string {
  return message.replace(ADDRESSES, ' ');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const JWT_SHAPED = /eyJ[\w-]*\.[\w-]+\.[\w-]*/g;
const MAX_QUOTED_CHARS = 200;

/** Removes the given secrets and anything shaped like a JWT. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret !== '') {
      out = out.split(secret).join('[redacted]');
    }
  }
  return out.replace(JWT_SHAPED, '[redacted]');
}

/** The reason logged for a refused auth: the server's message (or error), shortened, redacted. */
export function authRefusalReason(text: string, secrets: readonly string[] = []): string {
  let quoted: string | undefined;
  try {
    const frame = JSON.parse(text) as Record<string, unknown>;
    if (typeof frame.message === 'string') {
      quoted = frame.message;
    } else if (typeof frame.error === 'string') {
      quoted = frame.error;
    }
  } catch {
    // fall through
  }
  return quoted === undefined
    ? 'refused'
    : `refused: ${redactSecrets(quoted, secrets).slice(0, MAX_QUOTED_CHARS)}`;
}

/**
 * What the log says about an ack of an unfamiliar shape: its keys, its payload's keys and its
 * message, shortened; never the payload's values, and no secret or JWT.
 */
export function describeAuthFrame(
  text: string,
  secrets: readonly string[],
): Record<string, unknown> {
  try {
    const frame = JSON.parse(text) as Record<string, unknown>;
    return {
      keys: shortKeys(frame),
      payloadKeys: isRecord(frame.payload) ? shortKeys(frame.payload) : undefined,
      message:
        typeof frame.message === 'string'
          ? redactSecrets(frame.message, secrets).slice(0, MAX_QUOTED_CHARS)
          : undefined,
    };
  } catch {
    return {};
  }
}

/** At most 20 keys of 40 characters: enough to recognise a shape, never a payload. */
function shortKeys(record: Record<string, unknown>): string[] {
  return Object.keys(record)
    .slice(0, 20)
    .map((key) => key.slice(0, 40));
}
