export type AuthAck = 'success' | 'failure' | 'none';

const FAILURE_WORDS = /fail|unsuccess|denied|invalid|unauthori[sz]ed|reject|expired/i;

/**
 * Classifies a frame received while authenticating. Opentact documents only the success ack
 * (`type: "auth"`, message "... - success auth <email>"); failures are undocumented, so an
 * `auth` frame saying `success: false` or using a failure word counts as a refusal.
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
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
    return 'none';
  }
  const { type, success, message } = frame as Record<string, unknown>;
  if (type !== 'auth') {
    return 'none';
  }
  const text_ = typeof message === 'string' ? message : '';
  if (success === false || FAILURE_WORDS.test(text_)) {
    return 'failure';
  }
  if (success === true || /success/i.test(text_)) {
    return 'success';
  }
  return 'none';
}

/** The reason logged for a refused auth: the server's message, shortened. */
export function authRefusalReason(text: string): string {
  try {
    const frame = JSON.parse(text) as Record<string, unknown>;
    if (typeof frame.message === 'string') {
      return `refused: ${frame.message.slice(0, 200)}`;
    }
  } catch {
    // fall through
  }
  return 'refused';
}
