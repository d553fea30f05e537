import { AUTH_RESPONSE } from '../../test/fixtures/opentact-frames';
import {
  authRefusalReason,
  classifyAuthFrame,
  describeAuthFrame,
  judgeAuthFrame,
  redactSecrets,
} from './auth-ack';

const text = (v: unknown): string => JSON.stringify(v);
const auth = (fields: Record<string, unknown>): string => text({ type: 'auth', ...fields });

const CONNECTION = 'd7411060-f28c-443d-adef-0da909d43dbe@223.182.88.88';
const ackMessage = (email: string): string =>
  `WSS connection ${CONNECTION} - success auth ${email}`;
/** The documented ack with its message replaced: the connection `payload` stays. */
const documentedWith = (fields: Record<string, unknown>): string =>
  text({ ...AUTH_RESPONSE, ...fields });

describe('classifyAuthFrame: the findings', () => {
  it('refuses "failed auth: jwt expired" even with a connection payload', () => {
    expect(
      classifyAuthFrame(
        documentedWith({ message: `WSS connection ${CONNECTION} - failed auth: jwt expired` }),
      ),
    ).toBe('failure');
  });

  it('refuses "auth not successful"', () => {
    expect(
      classifyAuthFrame(auth({ message: `WSS connection ${CONNECTION} - auth not successful` })),
    ).toBe('failure');
    expect(
      classifyAuthFrame(
        documentedWith({ message: `WSS connection ${CONNECTION} - auth not successful` }),
      ),
    ).toBe('failure');
  });
});

describe('classifyAuthFrame, shape by shape', () => {
  it.each([
    // The documented ack, whole and reduced to its message.
    ['the documented ack', text(AUTH_RESPONSE), 'success'],
    ['its message alone', auth({ message: ackMessage('opentact@freefone.app') }), 'success'],
    [
      'its message, any case',
      auth({ message: `  wss CONNECTION ${CONNECTION} - Success Auth` }),
      'success',
    ],
    // success: false in every spelling wins over every success signal.
    ['success false', auth({ success: false, message: 'success' }), 'failure'],
    ['success "false"', auth({ success: 'false' }), 'failure'],
    ['success " FALSE "', auth({ success: ' FALSE ' }), 'failure'],
    ['success 0', auth({ success: 0 }), 'failure'],
    ['success "0"', auth({ success: '0' }), 'failure'],
    ['Success false', auth({ Success: false }), 'failure'],
    ['SUCCESS "false"', auth({ SUCCESS: 'false' }), 'failure'],
    ['success false, documented ack', documentedWith({ success: false }), 'failure'],
    ['SUCCESS 0, documented ack', documentedWith({ SUCCESS: 0 }), 'failure'],
    // An error, whatever else the frame says.
    ['error text', auth({ error: 'token expired' }), 'failure'],
    ['error true', auth({ error: true }), 'failure'],
    ['error code', auth({ error: 401 }), 'failure'],
    ['error object', auth({ error: { code: 'JWT_EXPIRED' } }), 'failure'],
    ['error list', auth({ errors: [], Error: ['expired'] }), 'failure'],
    ['ERROR text, documented ack', documentedWith({ ERROR: 'jwt expired' }), 'failure'],
    ['error beside success true', auth({ success: true, error: 'bad token' }), 'failure'],
    ['status failed', auth({ status: 'failed' }), 'failure'],
    // No error: false, null, 0, blank, empty.
    ['error false', auth({ error: false, message: ackMessage('a@b.io') }), 'success'],
    ['error null', auth({ error: null }), 'success'],
    ['error 0', auth({ error: 0 }), 'success'],
    ['error blank', auth({ error: '   ', message: 'success' }), 'success'],
    ['error {}', auth({ error: {} }), 'success'],
    ['error "false"', auth({ error: 'false' }), 'success'],
    // Failure wording outside addresses, with or without the connection payload.
    [
      'failed auth, payload',
      documentedWith({ message: `WSS connection ${CONNECTION} - failed auth` }),
      'failure',
    ],
    ['auth failed', auth({ message: 'WSS connection x - auth failed' }), 'failure'],
    ['unsuccessful', auth({ message: 'unsuccessful auth' }), 'failure'],
    ['not authenticated', auth({ message: 'not authenticated' }), 'failure'],
    ['Invalid token', auth({ message: 'Invalid token' }), 'failure'],
    ['REJECTED', auth({ message: 'REJECTED' }), 'failure'],
    ['unauthorised', auth({ message: 'unauthorised' }), 'failure'],
    ['Unauthorized', auth({ message: 'Unauthorized' }), 'failure'],
    ['Forbidden', auth({ message: 'Forbidden' }), 'failure'],
    ['refused', auth({ message: 'connection refused' }), 'failure'],
    ['token Expired', auth({ message: 'token Expired' }), 'failure'],
    ['access denied', auth({ message: 'access denied' }), 'failure'],
    ['auth error', auth({ message: 'auth error' }), 'failure'],
    [
      'success authority expired',
      auth({ message: `WSS connection ${CONNECTION} - success authority expired` }),
      'failure',
    ],
    ['failure word glued to an address', auth({ message: 'failed:ops@example.com' }), 'failure'],
    [
      'denied, email holding "success"',
      auth({ message: `WSS connection ${CONNECTION} - denied auth success@ops.io` }),
      'failure',
    ],
    ['success true, failure wording', auth({ success: true, message: 'auth failed' }), 'failure'],
    [
      'success "true", failure wording',
      auth({ success: 'true', message: 'auth failed' }),
      'failure',
    ],
    // No failure signal: accepted, however it is worded.
    ['success true', auth({ success: true }), 'success'],
    ['success 1', auth({ success: 1 }), 'success'],
    ['SUCCESS', auth({ message: 'SUCCESS' }), 'success'],
    [
      'a connection payload',
      auth({ message: 'connected: ops@failover.io', payload: { uuid: 'c1', ip: '10.0.0.1' } }),
      'success',
    ],
    ['a user payload', auth({ payload: { user: { email: 'x@denied.io' } } }), 'success'],
    ['an unknown wording', auth({ message: 'welcome back ops@success.io' }), 'success'],
    ['a message that is no text', auth({ message: 42, payload: { uuid: 'c1' } }), 'success'],
    ['nothing but the type', auth({}), 'success'],
    ['a word containing "not"', auth({ message: 'notifications on' }), 'success'],
    // Not an ack: forwarded as an ordinary frame.
    ['another type', text({ type: 'call_state', message: 'success' }), 'none'],
    ['"auth" elsewhere', text({ type: 'sms', message: 'auth success', kind: 'auth' }), 'none'],
    ['AUTH', text({ type: 'AUTH', success: true }), 'none'],
    ['cut short', '{"type":"auth"', 'none'],
    ['a JSON string', '"auth"', 'none'],
    ['an array', text(['auth']), 'none'],
    ['not JSON', 'not json', 'none'],
  ])('%s is %s', (_name, frame, expected) => {
    expect(classifyAuthFrame(frame)).toBe(expected);
  });

  it.each([
    'ops@failover.io',
    'invalid-numbers@example.com',
    'reject.queue@example.com',
    'expired@domains.example',
    'denied@example.com',
    'unauthorized@example.com',
    'fail@unsuccessful.example',
    'error@not-success.example',
  ])('accepts the documented ack of an account whose email is %s', (email) => {
    expect(judgeAuthFrame(auth({ message: ackMessage(email) }))).toEqual({
      ack: 'success',
      unfamiliar: false,
    });
    expect(classifyAuthFrame(documentedWith({ message: ackMessage(email) }))).toBe('success');
  });
});

describe('judgeAuthFrame', () => {
  it('calls only the documented message familiar', () => {
    expect(judgeAuthFrame(text(AUTH_RESPONSE))).toEqual({ ack: 'success', unfamiliar: false });
    for (const frame of [
      auth({ success: true }),
      auth({}),
      auth({ message: `WSS connection c1 - success auth` }),
      auth({ message: `note: WSS connection ${CONNECTION} - success auth a@b.io` }),
      auth({ message: `${ackMessage('a@b.io')} and more` }),
    ]) {
      expect(judgeAuthFrame(frame)).toEqual({ ack: 'success', unfamiliar: true });
    }
  });

  it('names the signal that refused', () => {
    expect(judgeAuthFrame(auth({ Success: 'false' })).signal).toBe('Success: "false"');
    expect(judgeAuthFrame(auth({ error: 'x' })).signal).toBe('error');
    expect(judgeAuthFrame(auth({ message: 'auth failed' })).signal).toBe('message');
  });

  it('does not parse frames that do not mention auth: a large event costs a substring search', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      expect(classifyAuthFrame(text({ type: 'call', data: 'x'.repeat(10_000) }))).toBe('none');
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });
});

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

describe('redactSecrets', () => {
  it('removes the given secrets and anything shaped like a JWT', () => {
    expect(redactSecrets(`token ${JWT} password hunter2`, ['hunter2'])).toBe(
      'token [redacted] password [redacted]',
    );
    expect(redactSecrets('plain', [''])).toBe('plain');
  });
});

describe('authRefusalReason', () => {
  it('prefers the message to the error, and shortens either to 200 characters', () => {
    expect(authRefusalReason(text({ message: 'bad token', error: 'other' }))).toBe(
      'refused: bad token',
    );
    expect(authRefusalReason(text({ message: 5, error: 'e'.repeat(300) }))).toBe(
      `refused: ${'e'.repeat(200)}`,
    );
    expect(authRefusalReason(text({ error: true }))).toBe('refused');
    // Arrays have slice() too: only text is quoted.
    expect(authRefusalReason(text({ message: ['bad'], error: ['token', 'expired'] }))).toBe(
      'refused',
    );
    expect(authRefusalReason(auth({ message: 'x'.repeat(500) }))).toHaveLength(209);
    expect(authRefusalReason('garbage')).toBe('refused');
    expect(authRefusalReason('null')).toBe('refused');
  });

  it('never quotes the token or the password the server may echo', () => {
    const reason = authRefusalReason(
      auth({ message: `jwt ${JWT} expired; password hunter2 wrong` }),
      ['hunter2'],
    );
    expect(reason).toBe('refused: jwt [redacted] expired; password [redacted] wrong');
  });
});

describe('describeAuthFrame', () => {
  it('gives keys and the redacted message, never the payload values', () => {
    const described = describeAuthFrame(
      auth({ message: `hi ${JWT}`, payload: { token: JWT, user: { email: 'a@b.io' } } }),
      [],
    );
    expect(described).toEqual({
      keys: ['type', 'message', 'payload'],
      payloadKeys: ['token', 'user'],
      message: 'hi [redacted]',
    });
    expect(JSON.stringify(described)).not.toContain('eyJ');
    expect(describeAuthFrame('not json', [])).toEqual({});
  });
});
