export type AuthAck = 'success' | 'failure' | 'none';

/**
 * The documented acknowledgement: `WSS connection <id>@<ip> - success auth <email>`. Everything
 * after "success auth" is the account's email, so it says nothing about the outcome.
 */
const DOCUMENTED_SUCCESS = /^\s*WSS connection \S+ - success auth(\s|$)/i;
const FAILURE_WORDS = /fail|unsuccess|denied|invalid|unauthori[sz]ed|reject|expired/i;
/** Emails, and the `<connection-id>@<ip>` of the documented message: words in them mean nothing. */
const ADDRESSES = /\S+@\S+/g;

/**
 * Classifies a frame received while authenticating, on the frame's structure first and on its
 * words last. Opentact documents only the success ack (`type: "auth"`, the message above, and a
 * `payload` describing the connection); failures are undocumented, so:
 *
 * 1. an explicit boolean `success` decides;
 * 2. an `error` field means a refusal;
 * 3. the documented success message, or a payload describing the connection (`uuid` or `user`),
 *    means success, whatever the email in it contains;
 * 4. otherwise the message, with addresses removed, is read for failure or success words.
 *
 * `none` means "not an ack": the frame is an ordinary event and is forwarded.
 */
export function classifyAuthFrame(text: string): AuthAck {
  if (!text.includes('"auth"')) {
    return 'none';
  }
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return 'none';
  }
  if (!isRecord(frame) || frame.type !== 'auth') {
    return 'none';
  }
  if (typeof frame.success === 'boolean') {
    return frame.success ? 'success' : 'failure';
  }
  if (frame.error === true || (typeof frame.error === 'string' && frame.error.trim() !== '')) {
    return 'failure';
  }
  const message = typeof frame.message === 'string' ? frame.message : '';
  if (DOCUMENTED_SUCCESS.test(message) || describesConnection(frame.payload)) {
    return 'success';
  }
  const words = message.replace(ADDRESSES, ' ');
  if (FAILURE_WORDS.test(words)) {
    return 'failure';
  }
  return /success/i.test(words) ? 'success' : 'none';
}

/** The documented ack's payload is the connection: its uuid, the client ip and the user. */
function describesConnection(payload: unknown): boolean {
  return isRecord(payload) && (typeof payload.uuid === 'string' || isRecord(payload.user));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The reason logged for a refused auth: the server's message, shortened. */
export function authRefusalReason(text: string): string {
  try {
    const frame = JSON.parse(text) as Record<string, unknown>;
    if (typeof frame.message === 'string') {
      return `refused: ${frame.message.slice(0, 200)}`;
    }
    if (typeof frame.error === 'string') {
      return `refused: ${frame.error.slice(0, 200)}`;
    }
  } catch {
    // fall through
  }
  return 'refused';
}
