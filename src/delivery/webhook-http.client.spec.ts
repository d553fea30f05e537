import type { LookupAddress } from 'node:dns';
import { WebhookHttpClient, type WebhookHttpClientOptions } from './webhook-http.client';

/**
 * The client without a receiver: every failure is played through the `lookup` hook, which runs
 * inside the connect step, so no socket is ever opened. What reaches the network is tested in
 * test/integration/delivery-sender/webhook-http-client.spec.ts.
 */
describe('WebhookHttpClient without a network', () => {
  const clients: WebhookHttpClient[] = [];

  function client(overrides: Partial<WebhookHttpClientOptions> = {}): WebhookHttpClient {
    const created = new WebhookHttpClient({
      timeoutMs: 2_000,
      connectionsPerOrigin: 2,
      maxResponseBytes: 1_024,
      allowCidrs: [],
      userAgent: 'opentact-bridge-test/1.0',
      ...overrides,
    });
    clients.push(created);
    return created;
  }

  /** A client whose every name lookup fails with `error` (an Error, or anything thrown). */
  const failingWith = (error: Error | string): WebhookHttpClient =>
    client({
      lookup: (): Promise<LookupAddress[]> =>
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a lookup may reject with anything
        Promise.reject(error),
    });

  const coded = (code: string, message = 'it failed'): Error =>
    Object.assign(new Error(message), { code });

  afterEach(async () => {
    jest.useRealTimers();
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  describe('options', () => {
    it.each([
      { timeoutMs: 0 },
      { timeoutMs: Number.NaN },
      { connectionsPerOrigin: 0 },
      { maxResponseBytes: -1 },
    ])('refuses %o', (bad) => {
      expect(() => client(bad)).toThrow(
        new RangeError(
          'timeoutMs and connectionsPerOrigin must be positive, maxResponseBytes >= 0',
        ),
      );
    });

    it('accepts a response cap of zero bytes', () => {
      expect(client({ maxResponseBytes: 0 }).poolCount).toBe(0);
    });
  });

  it('posts to an https URL as to an http one (here, as far as the name lookup)', async () => {
    const result = await client({
      lookup: (): Promise<LookupAddress[]> => Promise.reject(coded('ENOTFOUND')),
    }).post('https://receiver.test/hook', {}, '{}');
    expect(result.error).toEqual({ kind: 'dns', message: 'ENOTFOUND: it failed' });
  });

  it('refuses a URL that is not http or https before opening anything', async () => {
    const sender = client();
    await expect(sender.post('ftp://receiver.test/hook', {}, '{}')).rejects.toThrow(
      new TypeError('webhook URL must be http or https, got ftp:'),
    );
    expect(sender.poolCount).toBe(0);
  });

  describe('naming a failure by what the operator can do about it', () => {
    // (UND_ERR_SOCKET is left out: undici reconnects after it rather than failing the request.)
    it.each([
      ['UND_ERR_CONNECT_TIMEOUT', 'timeout'],
      ['UND_ERR_HEADERS_TIMEOUT', 'timeout'],
      ['UND_ERR_BODY_TIMEOUT', 'timeout'],
      ['ETIMEDOUT', 'timeout'],
      ['ENOTFOUND', 'dns'],
      ['EAI_AGAIN', 'dns'],
      ['EAI_FAIL', 'dns'],
      ['EAI_NONAME', 'dns'],
      ['EAI_NODATA', 'dns'],
      ['ECONNREFUSED', 'connect'],
      ['EHOSTUNREACH', 'connect'],
      ['ENETUNREACH', 'connect'],
      ['EHOSTDOWN', 'connect'],
      ['ENETDOWN', 'connect'],
      ['EADDRNOTAVAIL', 'connect'],
      ['ECONNRESET', 'reset'],
      ['EPIPE', 'reset'],
      ['ECONNABORTED', 'reset'],
      ['UND_ERR_CLOSED', 'reset'],
      ['CERT_HAS_EXPIRED', 'tls'],
      ['CERT_NOT_YET_VALID', 'tls'],
      ['CERT_REVOKED', 'tls'],
      ['DEPTH_ZERO_SELF_SIGNED_CERT', 'tls'],
      ['SELF_SIGNED_CERT_IN_CHAIN', 'tls'],
      ['UNABLE_TO_GET_ISSUER_CERT', 'tls'],
      ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'tls'],
      ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'tls'],
      ['HOSTNAME_MISMATCH', 'tls'],
      ['ERR_TLS_CERT_ALTNAME_INVALID', 'tls'],
      ['ERR_SSL_WRONG_VERSION_NUMBER', 'tls'],
      ['EWHATEVER', 'other'],
      ['X_ERR_TLS_', 'other'],
    ])('%s is kind %s, its code shown beside the message', async (code, kind) => {
      const result = await failingWith(coded(code)).post('http://receiver.test/hook', {}, '{}');
      expect(result.statusCode).toBeUndefined();
      expect(result.error).toEqual({ kind, message: `${code}: it failed` });
      expect(result).toMatchObject({ headers: {}, body: '', bodyTruncated: false });
      expect(result.durationMs).toBeGreaterThanOrEqual(0);
    });

    it('does not repeat a code the message already names', async () => {
      const result = await failingWith(coded('ECONNRESET', 'read ECONNRESET')).post(
        'http://receiver.test/hook',
        {},
        '{}',
      );
      expect(result.error).toEqual({ kind: 'reset', message: 'read ECONNRESET' });
    });

    it('names an error without a code as other, with its message alone', async () => {
      const result = await failingWith(new Error('something odd')).post(
        'http://receiver.test/hook',
        {},
        '{}',
      );
      expect(result.error).toEqual({ kind: 'other', message: 'something odd' });
    });

    it('reads a TimeoutError (an aborted signal) as a timeout, whatever its code', async () => {
      const error = Object.assign(new Error('The operation was aborted due to timeout'), {
        name: 'TimeoutError',
      });
      const result = await failingWith(error).post('http://receiver.test/hook', {}, '{}');
      expect(result.error).toEqual({
        kind: 'timeout',
        message: 'The operation was aborted due to timeout',
      });
    });

    it('reads an SSRF refusal by its code, and shows its reason as it is', async () => {
      const result = await failingWith(coded('SSRF_BLOCKED', 'refused: internal')).post(
        'http://receiver.test/hook',
        {},
        '{}',
      );
      expect(result.error).toEqual({ kind: 'ssrf', message: 'refused: internal' });
    });

    it('looks through wrapped causes, up to five deep', async () => {
      const wrapped = (depth: number): Error => {
        let error = coded('ECONNREFUSED', 'connect ECONNREFUSED 192.0.2.1:443');
        for (let i = 0; i < depth; i++) {
          error = new Error(`layer ${i}`, { cause: error });
        }
        return error;
      };
      const found = await failingWith(wrapped(4)).post('http://receiver.test/hook', {}, '{}');
      expect(found.error).toEqual({
        kind: 'connect',
        message: 'connect ECONNREFUSED 192.0.2.1:443',
      });
      const tooDeep = await failingWith(wrapped(5)).post('http://receiver.test/hook', {}, '{}');
      expect(tooDeep.error).toEqual({ kind: 'other', message: 'layer 4' });
    });

    it('reads causes that are not errors without tripping over them', async () => {
      const post = (cause: unknown) =>
        failingWith(new Error('outer', { cause })).post('http://receiver.test/hook', {}, '{}');
      // Text, null and a number have no fields to look at: the outer error is what is named.
      for (const cause of ['inner text', null, 7]) {
        expect((await post(cause)).error).toEqual({ kind: 'other', message: 'outer' });
      }
      // A code that is not text is no code.
      expect((await post({ code: 42 })).error).toEqual({ kind: 'other', message: 'outer' });
      // A plain object with a code and a message is named by them, its message as it is.
      expect((await post({ code: 'ECONNRESET', message: 'peer went away' })).error).toEqual({
        kind: 'reset',
        message: 'peer went away',
      });
    });

    it('turns a lookup that rejects with a non-error into an error of its text', async () => {
      const result = await failingWith('lookup exploded').post(
        'http://receiver.test/hook',
        {},
        '{}',
      );
      expect(result.error).toEqual({ kind: 'other', message: 'lookup exploded' });
    });

    it('reports a name with no addresses as kind dns', async () => {
      const sender = client({ lookup: () => Promise.resolve([]) });
      const result = await sender.post('http://receiver.test/hook', {}, '{}');
      expect(result.error).toEqual({
        kind: 'dns',
        message: 'ENOTFOUND: receiver.test has no addresses',
      });
    });

    it('refuses a blocked address literal before dialling it', async () => {
      const result = await client().post('http://10.1.2.3:8080/hook', {}, '{}');
      expect(result.error?.kind).toBe('ssrf');
      expect(result.error?.message).toContain('10.1.2.3');
    });
  });

  describe('connection pools', () => {
    const lookup = (): Promise<LookupAddress[]> => Promise.reject(coded('ENOTFOUND'));

    it('keeps one pool per key, or per origin without a key', async () => {
      const sender = client({ lookup });
      await sender.post('http://a.test/hook', {}, '{}', 'sub_1');
      await sender.post('http://a.test/other', {}, '{}', 'sub_1');
      expect(sender.poolCount).toBe(1);
      await sender.post('http://a.test/hook', {}, '{}', 'sub_2');
      expect(sender.poolCount).toBe(2);
      await sender.post('http://b.test/hook', {}, '{}');
      await sender.post('http://b.test/again', {}, '{}');
      expect(sender.poolCount).toBe(3);
    });

    it('replaces the pool of a key whose subscription moved to another origin', async () => {
      const looked: string[] = [];
      const sender = client({
        lookup: (hostname: string) => {
          looked.push(hostname);
          return lookup();
        },
      });
      await sender.post('http://a.test/hook', {}, '{}', 'sub_1');
      await sender.post('http://b.test/hook', {}, '{}', 'sub_1');
      expect(sender.poolCount).toBe(1);
      // The second request dials the new origin, not the old pool's.
      expect(looked).toEqual(['a.test', 'b.test']);
    });

    it('closes the pool of a forgotten key, and ignores an unknown one', async () => {
      const sender = client({ lookup });
      await sender.post('http://a.test/hook', {}, '{}', 'sub_1');
      await sender.post('http://a.test/hook', {}, '{}', 'sub_2');
      sender.forget('sub_unknown');
      expect(sender.poolCount).toBe(2);
      sender.forget('sub_1');
      expect(sender.poolCount).toBe(1);
    });

    it('closes pools left unused for five minutes, checking once a minute', async () => {
      // undici needs the real nextTick and setImmediate to settle a request.
      jest.useFakeTimers({
        now: Date.parse('2026-03-01T12:00:00Z'),
        doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'],
      });
      try {
        const sender = client({ lookup });
        await sender.post('http://a.test/hook', {}, '{}', 'sub_idle');
        jest.setSystemTime(Date.now() + 2 * 60_000);
        await sender.post('http://a.test/hook', {}, '{}', 'sub_busy');
        // 5 min after sub_idle's use: not more than five minutes yet.
        await jest.advanceTimersByTimeAsync(3 * 60_000);
        expect(sender.poolCount).toBe(2);
        await jest.advanceTimersByTimeAsync(60_000);
        expect(sender.poolCount).toBe(1);
        await jest.advanceTimersByTimeAsync(2 * 60_000);
        expect(sender.poolCount).toBe(0);
      } finally {
        jest.useRealTimers();
      }
    });

    it('closes the least recently used pool to open one beyond maxPools', async () => {
      jest.useFakeTimers({
        now: Date.parse('2026-03-01T12:00:00Z'),
        doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'],
      });
      const sender = client({ lookup, maxPools: 3 });
      for (const key of ['sub_1', 'sub_2', 'sub_3', 'sub_1']) {
        await sender.post('http://a.test/hook', {}, '{}', key);
        jest.setSystemTime(Date.now() + 1_000);
      }
      // sub_2 is now the least recently used (sub_1 was used again after it).
      await sender.post('http://a.test/hook', {}, '{}', 'sub_4');
      expect(sender.poolCount).toBe(3);
      sender.forget('sub_2');
      expect(sender.poolCount).toBe(3);
      for (const kept of ['sub_1', 'sub_3', 'sub_4']) {
        sender.forget(kept);
      }
      expect(sender.poolCount).toBe(0);
    });

    it('closes every pool on shutdown, once however often it is asked', async () => {
      const sender = client({ lookup });
      await sender.post('http://a.test/hook', {}, '{}', 'sub_1');
      const first = sender.onApplicationShutdown();
      expect(sender.close()).toBe(first);
      await expect(first).resolves.toBeUndefined();
    });
  });
});
