import { AUTH_RESPONSE } from '../../test/fixtures/opentact-frames';
import { authRefusalReason, classifyAuthFrame } from './auth-ack';

const text = (v: unknown): string => JSON.stringify(v);

const ackMessage = (email: string): string =>
  `WSS connection d7411060-f28c-443d-adef-0da909d43dbe@223.182.88.88 - success auth ${email}`;
const ackFor = (email: string): string => text({ type: 'auth', message: ackMessage(email) });

describe('classifyAuthFrame', () => {
  it('recognises the documented success ack', () => {
    expect(classifyAuthFrame(text(AUTH_RESPONSE))).toBe('success');
    expect(classifyAuthFrame(ackFor('opentact@freefone.app'))).toBe('success');
    expect(classifyAuthFrame(text({ type: 'auth', success: true }))).toBe('success');
    expect(classifyAuthFrame(text({ type: 'auth', message: 'SUCCESS' }))).toBe('success');
  });

  it.each([
    'ops@failover.io',
    'invalid-numbers@example.com',
    'reject.queue@example.com',
    'expired@domains.example',
    'denied@example.com',
    'unauthorized@example.com',
    'fail@unsuccessful.example',
  ])('accepts an account whose email is %s', (email) => {
    expect(classifyAuthFrame(ackFor(email))).toBe('success');
    // The documented ack also carries the connection in `payload`; the email is in there too.
    const full = { ...AUTH_RESPONSE, message: ackMessage(email) };
    expect(classifyAuthFrame(text(full))).toBe('success');
  });

  it('judges by the connection payload when the message is worded differently', () => {
    expect(
      classifyAuthFrame(
        text({
          type: 'auth',
          message: 'connected: ops@failover.io',
          payload: { uuid: 'c1', ip: '10.0.0.1' },
        }),
      ),
    ).toBe('success');
    expect(
      classifyAuthFrame(text({ type: 'auth', payload: { user: { email: 'x@denied.io' } } })),
    ).toBe('success');
  });

  it('recognises refusals', () => {
    expect(classifyAuthFrame(text({ type: 'auth', success: false, message: 'success' }))).toBe(
      'failure',
    );
    expect(
      classifyAuthFrame(
        text({ type: 'auth', success: false, payload: { uuid: 'c1', user: { email: 'a@b.c' } } }),
      ),
    ).toBe('failure');
    expect(
      classifyAuthFrame(text({ type: 'auth', message: 'WSS connection x - auth failed' })),
    ).toBe('failure');
    expect(classifyAuthFrame(text({ type: 'auth', message: 'unsuccessful auth' }))).toBe('failure');
    expect(classifyAuthFrame(text({ type: 'auth', error: 'token expired' }))).toBe('failure');
    // A failure message naming an account whose email holds the word "success".
    expect(
      classifyAuthFrame(
        text({ type: 'auth', message: 'WSS connection c1@10.0.0.1 - denied auth success@ops.io' }),
      ),
    ).toBe('failure');
  });

  it('treats everything else as an ordinary frame', () => {
    expect(classifyAuthFrame(text({ type: 'call_state', message: 'success' }))).toBe('none');
    expect(classifyAuthFrame(text({ type: 'auth' }))).toBe('none');
    expect(classifyAuthFrame(text({ type: 'auth', message: 'hello ops@success.io' }))).toBe('none');
    expect(classifyAuthFrame('{"type":"auth"')).toBe('none');
    expect(classifyAuthFrame('not json')).toBe('none');
    expect(classifyAuthFrame(text(['auth']))).toBe('none');
  });
});

describe('classifyAuthFrame, shape by shape', () => {
  const auth = (fields: Record<string, unknown>): string => text({ type: 'auth', ...fields });

  it.each([
    // An explicit boolean decides; anything else called success does not.
    [auth({ success: 'true', message: 'auth failed' }), 'failure'],
    [auth({ success: 1 }), 'none'],
    // An error field: true or a non-blank text refuses; false, blank or a number does not.
    [auth({ error: true }), 'failure'],
    [auth({ error: false }), 'none'],
    [auth({ error: '   ' }), 'none'],
    [auth({ error: 401 }), 'none'],
    [auth({ error: '   ', message: 'success' }), 'success'],
    // The documented message: leading blanks and any case; "success auth" must end a word.
    [auth({ message: '  wss CONNECTION c1@10.0.0.1 - Success Auth' }), 'success'],
    [auth({ message: 'WSS connection c1@10.0.0.1 - success authority expired' }), 'failure'],
    [auth({ message: 'note: WSS connection c1 - success auth' }), 'success'],
    // Each failure word, outside an address, in any case.
    [auth({ message: 'Invalid token' }), 'failure'],
    [auth({ message: 'REJECTED' }), 'failure'],
    [auth({ message: 'unauthorised' }), 'failure'],
    [auth({ message: 'Unauthorized' }), 'failure'],
    [auth({ message: 'token Expired' }), 'failure'],
    [auth({ message: 'access denied' }), 'failure'],
    // A payload describes the connection only with a string uuid or a user object.
    [auth({ payload: { uuid: 7 } }), 'none'],
    [auth({ payload: { user: 'u' } }), 'none'],
    [auth({ payload: null }), 'none'],
    [auth({ payload: [{ uuid: 'c1' }] }), 'none'],
    [auth({ message: 42, payload: { uuid: 'c1' } }), 'success'],
    // "auth" must be the type, not a word elsewhere in the frame.
    [text({ type: 'sms', message: 'auth success', kind: 'auth' }), 'none'],
    [text({ type: 'AUTH', success: true }), 'none'],
    ['"auth"', 'none'],
  ])('%s is %s', (frame, expected) => {
    expect(classifyAuthFrame(frame)).toBe(expected);
  });
});

describe('classifyAuthFrame on frames that do not mention auth', () => {
  it('does not parse them: a large event during the handshake costs a substring search only', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      expect(classifyAuthFrame(text({ type: 'call', data: 'x'.repeat(10_000) }))).toBe('none');
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
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
  });

  it('quotes a shortened server message', () => {
    expect(authRefusalReason(text({ type: 'auth', message: 'auth failed' }))).toBe(
      'refused: auth failed',
    );
    expect(authRefusalReason(text({ type: 'auth', error: 'token expired' }))).toBe(
      'refused: token expired',
    );
    expect(authRefusalReason(text({ type: 'auth', message: 'x'.repeat(500) }))).toHaveLength(209);
    expect(authRefusalReason('garbage')).toBe('refused');
    expect(authRefusalReason('null')).toBe('refused');
  });
});
