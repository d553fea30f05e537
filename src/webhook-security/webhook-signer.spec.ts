import { Webhook } from 'standardwebhooks';
import { generateSecret, InvalidSecretError, isValidSecret, WebhookSigner } from './webhook-signer';

describe('WebhookSigner', () => {
  const signer = new WebhookSigner();
  // The test vector published with the Standard Webhooks spec and the Svix libraries.
  const specVector = {
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    msgId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    timestampSec: 1614265330,
    body: '{"test": 2432232314}',
    signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  };

  it('matches the published spec vector', () => {
    const { secret, msgId, timestampSec, body, signature } = specVector;
    expect(signer.sign({ msgId, timestampSec, body, secrets: [secret] })).toBe(signature);
  });

  it('matches the official standardwebhooks library for a generated secret and a non-ASCII body', () => {
    const secret = generateSecret();
    const msgId = 'evt_2f1c9a';
    const timestampSec = 1_760_000_000;
    const body = JSON.stringify({
      type: 'call.answered',
      data: { from: '+15550100', note: 'café ☎' },
    });
    const expected = new Webhook(secret).sign(msgId, new Date(timestampSec * 1000), body);
    expect(signer.sign({ msgId, timestampSec, body, secrets: [secret] })).toBe(expected);
  });

  it('accepts a secret without the whsec_ prefix, as the official libraries do', () => {
    const { secret, msgId, timestampSec, body, signature } = specVector;
    expect(
      signer.sign({ msgId, timestampSec, body, secrets: [secret.slice('whsec_'.length)] }),
    ).toBe(signature);
  });

  it('signs with every secret, space-separated, in the order given', () => {
    const first = generateSecret();
    const second = generateSecret();
    const input = { msgId: 'msg_1', timestampSec: 1_700_000_000, body: '{}' };
    const header = signer.sign({ ...input, secrets: [first, second] });
    const parts = header.split(' ');
    expect(parts).toHaveLength(2);
    expect(parts[0]).toBe(signer.sign({ ...input, secrets: [first] }));
    expect(parts[1]).toBe(signer.sign({ ...input, secrets: [second] }));
    for (const part of parts) {
      expect(part).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    }
  });

  it('refuses to sign without a secret or with a secret that is not base64', () => {
    const input = { msgId: 'm', timestampSec: 1, body: '' };
    expect(() => signer.sign({ ...input, secrets: [] })).toThrow(InvalidSecretError);
    expect(() => signer.sign({ ...input, secrets: ['whsec_'] })).toThrow(InvalidSecretError);
    expect(() => signer.sign({ ...input, secrets: ['whsec_not*base64!'] })).toThrow(
      InvalidSecretError,
    );
  });

  it('signs the same with a key it has decoded before, and keeps refusing a bad one', () => {
    const signer = new WebhookSigner();
    const secret = generateSecret();
    const input = {
      msgId: 'msg_1',
      timestampSec: 1_700_000_000,
      body: '{"a":1}',
      secrets: [secret],
    };
    const first = signer.sign(input);
    expect(signer.sign(input)).toBe(first);
    expect(signer.sign({ ...input, body: '{"a":2}' })).not.toBe(first);
    expect(() => signer.sign({ ...input, secrets: ['whsec_***'] })).toThrow(InvalidSecretError);
    expect(() => signer.sign({ ...input, secrets: ['whsec_***'] })).toThrow(InvalidSecretError);
  });

  it('refuses a timestamp that is not whole seconds', () => {
    expect(() =>
      signer.sign({ msgId: 'm', timestampSec: 1.5, body: '', secrets: [generateSecret()] }),
    ).toThrow(RangeError);
  });
});

describe('generateSecret / isValidSecret', () => {
  it('generates whsec_ + base64 of 32 random bytes, different every time', () => {
    const a = generateSecret();
    const b = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(a).not.toBe(b);
    expect(isValidSecret(a)).toBe(true);
  });

  it.each([
    ['no prefix', Buffer.alloc(32, 1).toString('base64'), false],
    ['empty key', 'whsec_', false],
    ['not base64', 'whsec_%%%%', false],
    ['23 bytes', `whsec_${Buffer.alloc(23, 1).toString('base64')}`, false],
    ['24 bytes', `whsec_${Buffer.alloc(24, 1).toString('base64')}`, true],
    ['64 bytes', `whsec_${Buffer.alloc(64, 1).toString('base64')}`, true],
    ['65 bytes', `whsec_${Buffer.alloc(65, 1).toString('base64')}`, false],
  ])('%s → %s', (_name, secret, valid) => {
    expect(isValidSecret(secret)).toBe(valid);
  });
});
