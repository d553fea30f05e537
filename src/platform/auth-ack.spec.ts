import { authRefusalReason, classifyAuthFrame } from './auth-ack';

const text = (v: unknown): string => JSON.stringify(v);

describe('classifyAuthFrame', () => {
  it('recognises the documented success ack', () => {
    const ack = text({
      type: 'auth',
      message: 'WSS connection d741@223.182.88.88 - success auth opentact@freefone.app',
    });
    expect(classifyAuthFrame(ack)).toBe('success');
    expect(classifyAuthFrame(text({ type: 'auth', success: true }))).toBe('success');
    expect(classifyAuthFrame(text({ type: 'auth', message: 'SUCCESS' }))).toBe('success');
  });

  it('recognises refusals', () => {
    expect(classifyAuthFrame(text({ type: 'auth', success: false, message: 'success' }))).toBe(
      'failure',
    );
    expect(
      classifyAuthFrame(text({ type: 'auth', message: 'WSS connection x - auth failed' })),
    ).toBe('failure');
    expect(classifyAuthFrame(text({ type: 'auth', message: 'unsuccessful auth' }))).toBe('failure');
  });

  it('treats everything else as an ordinary frame', () => {
    expect(classifyAuthFrame(text({ type: 'call_state', message: 'success' }))).toBe('none');
    expect(classifyAuthFrame(text({ type: 'auth' }))).toBe('none');
    expect(classifyAuthFrame('{"type":"auth"')).toBe('none');
    expect(classifyAuthFrame('not json')).toBe('none');
    expect(classifyAuthFrame(text(['auth']))).toBe('none');
  });
});

describe('authRefusalReason', () => {
  it('quotes a shortened server message', () => {
    expect(authRefusalReason(text({ type: 'auth', message: 'auth failed' }))).toBe(
      'refused: auth failed',
    );
    expect(authRefusalReason(text({ type: 'auth', message: 'x'.repeat(500) }))).toHaveLength(209);
    expect(authRefusalReason('garbage')).toBe('refused');
  });
});
