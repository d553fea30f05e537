import { Webhook } from 'standardwebhooks';
import { WebhookSigner } from '../webhook-security/webhook-signer';
import type { HttpAttemptResult, WebhookHttpClient } from './webhook-http.client';
import { WebhookSender } from './webhook-sender';

const secretOf = (text: string): string => `whsec_${Buffer.from(text).toString('base64')}`;
const CURRENT = secretOf('the-current-secret-0123456789');
const PREVIOUS = secretOf('the-previous-secret-987654321');
const EXPIRED = secretOf('an-expired-secret-000000000000');
const NOW = new Date('2026-03-01T12:00:00.750Z');
const RESULT: HttpAttemptResult = {
  statusCode: 204,
  headers: {},
  body: '',
  bodyTruncated: false,
  durationMs: 3,
};

function setUp() {
  const posts: { url: string; headers: Record<string, string>; body: string; subId: string }[] = [];
  const forgotten: string[] = [];
  const http = {
    post: (url: string, headers: Record<string, string>, body: string, subId: string) => {
      posts.push({ url, headers, body, subId });
      return Promise.resolve(RESULT);
    },
    forget: (id: string) => void forgotten.push(id),
  } as unknown as WebhookHttpClient;
  return { sender: new WebhookSender(http, new WebhookSigner()), posts, forgotten };
}

const subscription = {
  id: 'sub_1',
  url: 'http://127.0.0.1:9/hook',
  headers: { 'x-team': 'billing', 'webhook-id': 'spoofed' },
  secrets: [
    { secret: CURRENT, createdAt: '2026-02-01T00:00:00.000Z' },
    { secret: PREVIOUS, createdAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-03-02T00:00:00Z' },
    { secret: EXPIRED, createdAt: '2025-12-01T00:00:00.000Z', expiresAt: '2026-03-01T11:00:00Z' },
  ],
};

describe('WebhookSender', () => {
  it('posts the body byte for byte, with custom and Standard Webhooks headers, over its pool', async () => {
    const { sender, posts } = setUp();
    const body = '{"id":"evt_1", "type":"call.live"}';
    await expect(sender.send(subscription, { eventId: 'evt_1', body }, NOW)).resolves.toBe(RESULT);
    expect(posts).toHaveLength(1);
    const [post] = posts;
    expect(post.url).toBe(subscription.url);
    expect(post.subId).toBe('sub_1');
    expect(post.body).toBe(body);
    expect(post.headers['x-team']).toBe('billing');
    // The bridge's own headers win over a custom header of the same name.
    expect(post.headers['webhook-id']).toBe('evt_1');
    expect(post.headers['webhook-timestamp']).toBe(String(Math.floor(NOW.getTime() / 1000)));
  });

  it('signs with the current secret and each previous one still live, not an expired one', async () => {
    const { sender, posts } = setUp();
    const body = '{"id":"evt_2"}';
    await sender.send(subscription, { eventId: 'evt_2', body }, NOW);
    const { headers } = posts[0];
    const signatures = headers['webhook-signature'].split(' ');
    expect(signatures).toHaveLength(2);
    const verify = (secret: string, signature: string): unknown =>
      new Webhook(secret).verify(body, {
        'webhook-id': headers['webhook-id'],
        'webhook-timestamp': headers['webhook-timestamp'],
        'webhook-signature': signature,
      });
    // Verified at the timestamp it carries (the library checks it against its own clock).
    jest.useFakeTimers({ now: NOW, doNotFake: ['nextTick', 'setImmediate'] });
    try {
      expect(verify(CURRENT, signatures[0])).toEqual({ id: 'evt_2' });
      expect(verify(PREVIOUS, signatures[1])).toEqual({ id: 'evt_2' });
      expect(() => verify(EXPIRED, headers['webhook-signature'])).toThrow();
    } finally {
      jest.useRealTimers();
    }
  });

  it('throws, without sending, when the subscription has no secret to sign with', () => {
    const { sender, posts } = setUp();
    expect(() =>
      sender.send({ ...subscription, secrets: [] }, { eventId: 'evt_3', body: '{}' }, NOW),
    ).toThrow(/no secret/);
    expect(posts).toEqual([]);
  });

  it('forgets a subscription: its connections are released', () => {
    const { sender, forgotten } = setUp();
    sender.forget('sub_1');
    expect(forgotten).toEqual(['sub_1']);
  });
});
