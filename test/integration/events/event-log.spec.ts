import 'reflect-metadata';
import { Redis } from 'ioredis';
import { loadConfig } from '../../../src/config/app-config';
import { encodeBody } from '../../../src/events/event-body.codec';
import { EventLog, FAN_OUT_GROUP, parseEntryId } from '../../../src/events/event-log';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix, waitFor } from '../../support/harness';

function logFor(redis: Redis, prefix: string, env: Record<string, string> = {}): EventLog {
  const config = loadConfig({
    APP_ROLE: 'worker',
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    EVENT_RETENTION_SECONDS: '3600',
    ...env,
  });
  return new EventLog(redis, config);
}

/** Text that does not compress: the stored size is about its length. */
function randomText(length: number, seed: number): string {
  let x = seed + 1;
  let out = '';
  while (out.length < length) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out += x.toString(36);
  }
  return out.slice(0, length);
}

/** Events `<tag>-0` .. `<tag>-<n-1>`, whose bodies name them. */
const batch = (tag: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `${tag}-${i}`, body: `{"id":"${tag}-${i}"}` }));

interface PendingRow {
  id: string;
  consumer: string;
  idleMs: number;
  deliveries: number;
}

/** The fan-out group's pending entries as Redis holds them. */
async function pendingOf(redis: Redis, log: EventLog): Promise<PendingRow[]> {
  const rows = (await redis.xpending(log.streamKey, FAN_OUT_GROUP, '-', '+', 1000)) as [
    string,
    string,
    number,
    number,
  ][];
  return rows.map(([id, consumer, idleMs, deliveries]) => ({ id, consumer, idleMs, deliveries }));
}

/** The names of the fan-out group's consumers. */
async function consumerNames(redis: Redis, log: EventLog): Promise<string[]> {
  const raw = (await redis.xinfo('CONSUMERS', log.streamKey, FAN_OUT_GROUP)) as unknown[][];
  return raw.map((fields) => String(fields[fields.indexOf('name') + 1])).sort();
}

describe('EventLog against Redis', () => {
  const prefix = uniquePrefix('event-log');
  const ownPrefixes: string[] = [];
  let redis: Redis;
  /** A connection of its own for blocking reads, as the fan-out and live readers have. */
  let reader: Redis;
  let log: EventLog;

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
    reader = new Redis(TEST_REDIS_URL);
    log = logFor(redis, prefix);
  });

  afterAll(async () => {
    redis.disconnect();
    reader.disconnect();
    await Promise.all([prefix, ...ownPrefixes].map((p) => deletePrefix(p)));
  });

  /** A log with a stream of its own, for tests that need it empty or need its own group. */
  function ownLog(name: string, env: Record<string, string> = {}): EventLog {
    const own = uniquePrefix(`event-log-${name}`);
    ownPrefixes.push(own);
    return logFor(redis, own, env);
  }

  /** The same log through another client. */
  function sameLogOn(client: Redis, of: EventLog): EventLog {
    return logFor(client, of.streamKey.slice(0, -':event-log'.length));
  }

  /** Hands every entry of the log to `consumer` in one read. */
  async function readAllNew(of: EventLog, consumer: string): Promise<string[]> {
    return (await of.readNew(reader, consumer, 1000, 10)).map((e) => e.entryId);
  }

  it('appends new events in order and refuses an id it has seen, in another batch or the same', async () => {
    const first = await log.append([
      { id: 'e1', body: '{"id":"e1","type":"call.live"}' },
      { id: 'e2', body: '{"id":"e2","type":"call.hangup"}' },
      { id: 'e1', body: '{"id":"e1","type":"call.live"}' },
    ]);
    expect(first[0]).toMatch(/^\d+-\d+$/);
    expect(first[1]).toMatch(/^\d+-\d+$/);
    expect(first[2]).toBeUndefined();
    expect(await log.append([{ id: 'e2', body: '{}' }])).toEqual([undefined]);
    const all = await log.readAfter(undefined, 10);
    expect(all.map((e) => e.body)).toEqual([
      '{"id":"e1","type":"call.live"}',
      '{"id":"e2","type":"call.hangup"}',
    ]);
    expect((await log.get('e2'))?.entryId).toBe(first[1]);
    // The dedup key lives as long as the retention window.
    const ttl = await redis.ttl(`${prefix}:event:e2`);
    expect(ttl).toBeGreaterThan(3500);
  });

  it('treats an event as a duplicate when any of its aliases was seen, whatever its id', async () => {
    const [wss] = await log.append([
      { id: 'frame-uuid-1', body: '{"id":"frame-uuid-1"}', aliases: ['call:c1:live'] },
    ]);
    expect(wss).toBeDefined();
    // The same call state recovered later under another id: one event.
    expect(
      await log.append([
        { id: 'recovered-c1-live', body: '{}', aliases: ['call:c1:live'] },
        { id: 'recovered-c1-hangup', body: '{}', aliases: ['call:c1:hangup'] },
        { id: 'recovered-c1-hangup-again', body: '{}', aliases: ['call:c1:hangup'] },
      ]),
    ).toEqual([undefined, expect.stringMatching(/^\d+-\d+$/), undefined]);
    // An alias-free event with a known id is still a duplicate.
    expect(await log.append([{ id: 'recovered-c1-hangup', body: '{}' }])).toEqual([undefined]);
    expect(await redis.ttl(`${prefix}:event-alias:call:c1:hangup`)).toBeGreaterThan(3500);
  });

  it('reads back only the fields an entry has: no undefined ones', async () => {
    const [plain, targeted] = await log.append([
      { id: 'strict-1', body: '{"id":"strict-1"}' },
      { id: 'strict-2', body: '{"id":"strict-2"}', targetSubscriptionId: 'sub_t' },
    ]);
    expect(await log.getEntry(plain!)).toStrictEqual({
      entryId: plain,
      body: '{"id":"strict-1"}',
    });
    expect(await log.getEntry(targeted!)).toStrictEqual({
      entryId: targeted,
      body: '{"id":"strict-2"}',
      targetSubscriptionId: 'sub_t',
    });
  });

  it('reads an ordering only from an entry that has both its key and a whole sequence', async () => {
    const own = ownLog('ordering-fields');
    const add = (...fields: string[]) => redis.xadd(own.streamKey, '*', 'b', '{}', ...fields);
    const both = await add('k', 'key-1', 'q', '7');
    const keyOnly = await add('k', 'key-1');
    const seqOnly = await add('q', '7');
    const notWhole = await add('k', 'key-1', 'q', '7.5');
    expect(await own.getEntry(both!)).toStrictEqual({
      entryId: both,
      body: '{}',
      ordering: { key: 'key-1', seq: 7 },
    });
    for (const entryId of [keyOnly, seqOnly, notWhole]) {
      expect(await own.getEntry(entryId!)).toStrictEqual({ entryId, body: '{}' });
    }
  });

  it('sends nothing to Redis for an empty batch to append, acknowledge or touch', async () => {
    const sent = jest.spyOn(redis, 'sendCommand');
    try {
      expect(await log.append([])).toEqual([]);
      await log.ack([]);
      await log.touch('c1', []);
      expect(sent).not.toHaveBeenCalled();
    } finally {
      sent.mockRestore();
    }
  });

  it('numbers the events of each ordering key in the order they are appended', async () => {
    await log.append([
      { id: 'o1', body: '{}', orderingKey: 'call:k1' },
      { id: 'o2', body: '{}', orderingKey: 'call:k2' },
      { id: 'o1', body: '{}', orderingKey: 'call:k1' },
      { id: 'o3', body: '{}', orderingKey: 'call:k1' },
      { id: 'o4', body: '{}' },
    ]);
    await log.append([{ id: 'o5', body: '{}', orderingKey: 'call:k1', aliases: ['x:o5'] }]);
    const read = await log.readAfter(undefined, 100);
    const byBody = (id: string) => read.find((e) => e.entryId === id);
    const orderings = await Promise.all(
      ['o1', 'o2', 'o3', 'o4', 'o5'].map(async (id) => {
        const entryId = await log.entryIdOf(id);
        return byBody(entryId!)?.ordering;
      }),
    );
    // A duplicate takes no number; an event without a key has none.
    expect(orderings).toEqual([
      { key: 'call:k1', seq: 1 },
      { key: 'call:k2', seq: 1 },
      { key: 'call:k1', seq: 2 },
      undefined,
      { key: 'call:k1', seq: 3 },
    ]);
  });

  it('stores bodies compressed and reads them back byte for byte', async () => {
    const body = JSON.stringify({
      id: 'big',
      type: 'sms.inbound',
      data: { text: 'x'.repeat(4000) },
    });
    const [entryId] = await log.append([{ id: 'big', body }]);
    expect((await log.getEntry(entryId!))?.body).toBe(body);
    const raw = (await redis.xrangeBuffer(log.streamKey, entryId!, entryId!)) as unknown as [
      Buffer,
      Buffer[],
    ][];
    expect(raw[0][1][0].toString()).toBe('z1');
    expect(raw[0][1][1].length).toBeLessThan(body.length / 4);
  });

  it('stores the target of a test event and the order sequence for the retention window', async () => {
    const [targeted, plain] = await log.append([
      { id: 'test-1', body: '{"id":"test-1"}', targetSubscriptionId: 'sub-9' },
      { id: 'seq-1', body: '{"id":"seq-1"}', orderingKey: 'call:ttl' },
    ]);
    const [[, targetedFields], [, plainFields]] = await Promise.all(
      [targeted!, plain!].map(async (id) => (await redis.xrange(log.streamKey, id, id))[0]),
    );
    expect(targetedFields.slice(2)).toEqual(['s', 'sub-9']);
    expect(plainFields.slice(2)).toEqual(['k', 'call:ttl', 'q', '1']);
    expect(await log.getEntry(targeted!)).toEqual({
      entryId: targeted,
      body: '{"id":"test-1"}',
      targetSubscriptionId: 'sub-9',
    });
    expect(await redis.ttl(`${prefix}:order:call:ttl:seq`)).toBeGreaterThan(3500);
  });

  it('answers undefined for an id it never saw, or whose entry is gone', async () => {
    expect(await log.get('never-seen')).toBeUndefined();
    expect(await log.entryIdOf('never-seen')).toBeUndefined();
    expect(await log.getEntry('1-1')).toBeUndefined();
    const [entryId] = await log.append([{ id: 'trimmed', body: '{}' }]);
    expect(await log.entryIdOf('trimmed')).toBe(entryId);
    await redis.xdel(log.streamKey, entryId!);
    // The dedup key outlives the entry: the event is still a duplicate, but has nothing to show.
    expect(await log.get('trimmed')).toBeUndefined();
    expect(await log.append([{ id: 'trimmed', body: '{}' }])).toEqual([undefined]);
  });

  it('appends nothing for an empty batch', async () => {
    expect(await log.append([])).toEqual([]);
  });

  it('reads entries after a position, up to a count and up to a time', async () => {
    const own = ownLog('read-after');
    const [a, b, c] = (await own.append(batch('ra', 3))) as string[];
    expect((await own.readAfter(a, 10)).map((e) => e.entryId)).toEqual([b, c]);
    expect((await own.readAfter(undefined, 2)).map((e) => e.entryId)).toEqual([a, b]);
    expect((await own.readAfter(c, 10)).map((e) => e.entryId)).toEqual([]);
    const [firstMs] = parseEntryId(a);
    const [lastMs] = parseEntryId(c);
    expect(await own.readAfter(undefined, 10, firstMs - 1)).toEqual([]);
    // A fractional time (a clock with sub-millisecond parts) still reads up to its millisecond.
    const untilLast = await own.readAfter(undefined, 10, lastMs + 0.5);
    expect(untilLast.map((e) => e.body)).toEqual([
      '{"id":"ra-0"}',
      '{"id":"ra-1"}',
      '{"id":"ra-2"}',
    ]);
  });

  it('feeds a live reader from the newest entry on, blocking when there is nothing new', async () => {
    const own = ownLog('live');
    expect(await own.lastEntryId()).toBe('0-0');
    const [a, b, c] = (await own.append(batch('live', 3))) as string[];
    expect(await own.lastEntryId()).toBe(c);
    const next = await own.readLive(reader, a, 1, 10);
    expect(next).toEqual([{ entryId: b, body: '{"id":"live-1"}' }]);
    expect((await own.readLive(reader, a, 10, 10)).map((e) => e.entryId)).toEqual([b, c]);
    expect(await own.readLive(reader, c, 10, 10)).toEqual([]);
  });

  it('reads what a body field of any known format holds, and says which entries it cannot read', async () => {
    const own = ownLog('formats');
    const add = async (...fields: (string | Buffer)[]) =>
      (await own.getEntry((await redis.xadd(own.streamKey, '*', ...fields))!))!;
    // The plain format of earlier builds, with a target and an ordering.
    const plain = await add('b', '{"v":0}', 's', 'sub-1', 'k', 'call:x', 'q', '7');
    expect(plain).toEqual({
      entryId: plain.entryId,
      body: '{"v":0}',
      targetSubscriptionId: 'sub-1',
      ordering: { key: 'call:x', seq: 7 },
    });
    // The first body field wins; a field this build does not know is passed over.
    expect((await add('b', 'first', 'z1', encodeBody('second'))).body).toBe('first');
    expect((await add('future', 'x', 'z1', encodeBody('known'))).body).toBe('known');
    // An ordering needs both its key and a whole sequence number.
    expect((await add('b', '{}', 'k', 'call:x')).ordering).toBeUndefined();
    expect((await add('b', '{}', 'q', '3')).ordering).toBeUndefined();
    expect((await add('b', '{}', 'k', 'call:x', 'q', 'x')).ordering).toBeUndefined();

    const unknown = await add('future', 'x');
    expect(unknown).toEqual({
      entryId: unknown.entryId,
      body: '',
      unreadable: 'the entry has no body field this build knows',
    });
    const corrupt = await add('z1', 'not deflated');
    expect(corrupt).toEqual({
      entryId: corrupt.entryId,
      body: '',
      unreadable: 'event body in field z1 cannot be decoded',
    });
  });

  it('creates the fan-out group once, reading from the oldest entry, and rethrows other errors', async () => {
    const own = ownLog('group');
    const [first] = (await own.append(batch('g', 2))) as string[];
    await own.ensureGroup();
    await own.ensureGroup();
    const read = await own.readNew(reader, 'c1', 1, 10);
    expect(read).toEqual([{ entryId: first, body: '{"id":"g-0"}', deliveries: 1 }]);

    const empty = ownLog('group-empty');
    await empty.ensureGroup();
    expect(await redis.exists(empty.streamKey)).toBe(1);
    expect(await empty.stats()).toMatchObject({ length: 0, backlog: 0, pending: 0 });

    const wrong = ownLog('group-wrong');
    await redis.set(wrong.streamKey, 'not a stream');
    await expect(wrong.ensureGroup()).rejects.toThrow(/WRONGTYPE/);
    await expect(wrong.readNew(reader, 'c1', 1, 10)).rejects.toThrow(/WRONGTYPE/);
    await expect(wrong.removeIdleConsumers(0)).rejects.toThrow(/WRONGTYPE/);
    await expect(wrong.stats()).rejects.toThrow(/WRONGTYPE/);
  });

  it('recreates a lost fan-out group on the next read, then hands out what is new', async () => {
    const own = ownLog('lost-group');
    // No stream at all (a flushed Redis), then a stream without the group.
    expect(await own.stats()).toMatchObject({ length: 0, backlog: 0, pending: 0 });
    expect(await own.readNew(reader, 'c1', 10, 10)).toEqual([]);
    expect(await redis.xinfo('GROUPS', own.streamKey)).toHaveLength(1);
    await redis.xgroup('DESTROY', own.streamKey, FAN_OUT_GROUP);
    const [entryId] = (await own.append(batch('lost', 1))) as string[];
    expect(await own.readNew(reader, 'c1', 10, 10)).toEqual([]);
    expect(await own.readNew(reader, 'c1', 10, 10)).toEqual([
      { entryId, body: '{"id":"lost-0"}', deliveries: 1 },
    ]);
  });

  it('passes on a read error that is not a lost group, without recreating anything', async () => {
    const own = ownLog('read-error');
    const failing = {
      xreadgroupBuffer: () => Promise.reject(new Error('LOADING Redis is loading the dataset')),
    } as unknown as Redis;
    await expect(own.readNew(failing, 'c1', 10, 10)).rejects.toThrow(/LOADING/);
    expect(await redis.exists(own.streamKey)).toBe(0);
  });

  it('hands each entry to one consumer, up to a count, and acknowledges what is done', async () => {
    const own = ownLog('read-new');
    await own.ensureGroup();
    const ids = (await own.append(batch('rn', 3))) as string[];
    const first = await own.readNew(reader, 'c1', 2, 10);
    expect(first.map((e) => [e.entryId, e.deliveries])).toEqual([
      [ids[0], 1],
      [ids[1], 1],
    ]);
    expect((await own.readNew(reader, 'c2', 10, 10)).map((e) => e.entryId)).toEqual([ids[2]]);
    expect(await own.readNew(reader, 'c1', 10, 10)).toEqual([]);
    expect(await own.stats()).toMatchObject({ length: 3, backlog: 0, pending: 3 });

    await own.ack([ids[0], ids[2]]);
    await own.ack([]);
    expect((await pendingOf(redis, own)).map((p) => [p.id, p.consumer])).toEqual([[ids[1], 'c1']]);
    expect(await own.stats()).toMatchObject({ length: 3, backlog: 0, pending: 1 });
  });

  it('counts what no consumer has been handed yet as the backlog, and says when it cannot', async () => {
    const own = ownLog('stats');
    const ids = (await own.append(batch('st', 3))) as string[];
    // Without the fan-out group (only another one), nothing has been handed out.
    await redis.xgroup('CREATE', own.streamKey, 'other', '0');
    expect(await own.stats()).toMatchObject({ length: 3, backlog: 3, pending: 0 });
    await own.ensureGroup();
    await own.readNew(reader, 'c1', 1, 10);
    expect(await own.stats()).toMatchObject({ length: 3, backlog: 2, pending: 1 });
    // An entry deleted before it was read leaves Redis unable to count the lag.
    await redis.xdel(own.streamKey, ids[1]);
    expect(await own.stats()).toMatchObject({ length: 2, backlog: undefined, pending: 1 });
  });

  it('asks for the oldest pending entry only while something is pending', async () => {
    const own = ownLog('stats-pending');
    await own.ensureGroup();
    await own.append(batch('sp', 2));
    const xpending = jest.spyOn(redis, 'xpending');
    try {
      await own.stats();
      expect(xpending).not.toHaveBeenCalled();
      const [first] = await own.readNew(reader, 'c1', 1, 10);
      await own.stats();
      expect(xpending).toHaveBeenCalledTimes(1);
      await own.ack([first.entryId]);
      await own.trim(Date.now());
      expect(xpending).toHaveBeenCalledTimes(1);
    } finally {
      xpending.mockRestore();
    }
  });

  it('passes on an error reading the group that is not a missing stream or group', async () => {
    const own = ownLog('stats-wrongtype');
    await redis.set(own.streamKey, 'not a stream');
    await expect(own.stats()).rejects.toThrow(/WRONGTYPE/);
    await expect(own.trim(Date.now())).rejects.toThrow(/WRONGTYPE/);
  });

  it('keeps an entry with its consumer while it is touched, without counting a delivery', async () => {
    const own = ownLog('touch');
    await own.ensureGroup();
    const [entryId] = (await own.append(batch('t', 1))) as string[];
    await own.readNew(reader, 'c1', 1, 10);
    await waitFor(async () => (await pendingOf(redis, own))[0].idleMs >= 100, 5000, 'idle entry');
    await own.touch('c1', [entryId]);
    await own.touch('c1', []);
    const [row] = await pendingOf(redis, own);
    expect(row).toMatchObject({ id: entryId, consumer: 'c1', deliveries: 1 });
    expect(row.idleMs).toBeLessThan(100);
    expect(await own.claimAbandoned('c2', 100, 10, 5)).toEqual({ claimed: [], exhausted: [] });
  });

  it('takes over entries left unacknowledged, counting each hand-out, up to a count', async () => {
    const own = ownLog('claim');
    await own.ensureGroup();
    const ids = (await own.append(batch('cl', 3))) as string[];
    await readAllNew(own, 'c1');
    // Not idle long enough: still c1's.
    expect(await own.claimAbandoned('c2', 60_000, 10, 5)).toEqual({ claimed: [], exhausted: [] });

    const { claimed, exhausted } = await own.claimAbandoned('c2', 0, 10, 5);
    expect(exhausted).toEqual([]);
    expect(claimed).toEqual(
      ids.map((entryId, i) => ({ entryId, body: `{"id":"cl-${i}"}`, deliveries: 2 })),
    );
    expect((await pendingOf(redis, own)).map((p) => [p.consumer, p.deliveries])).toEqual([
      ['c2', 2],
      ['c2', 2],
      ['c2', 2],
    ]);

    const two = await own.claimAbandoned('c3', 0, 2, 5);
    expect(two.claimed.map((e) => [e.entryId, e.deliveries])).toEqual([
      [ids[0], 3],
      [ids[1], 3],
    ]);
  });

  it('gives up on entries handed out the most times allowed, leaving them pending', async () => {
    const own = ownLog('exhausted');
    await own.ensureGroup();
    const [entryId] = (await own.append(batch('ex', 1))) as string[];
    await readAllNew(own, 'c1');
    expect((await own.claimAbandoned('c2', 0, 10, 2)).claimed).toHaveLength(1);
    // Handed out twice now: the limit.
    expect(await own.claimAbandoned('c3', 0, 10, 2)).toEqual({
      claimed: [],
      exhausted: [entryId],
    });
    expect(await pendingOf(redis, own)).toEqual([
      expect.objectContaining({ id: entryId, consumer: 'c2', deliveries: 2 }),
    ]);
  });

  it('drops pending entries trimmed away, and leaves alone one another consumer just claimed', async () => {
    const own = ownLog('claim-gone');
    await own.ensureGroup();
    const [trimmed, raced, kept] = (await own.append(batch('cg', 3))) as string[];
    await readAllNew(own, 'c1');
    await redis.xdel(own.streamKey, trimmed);
    await waitFor(
      async () => (await pendingOf(redis, own)).every((p) => p.idleMs >= 50),
      5000,
      'idle entries',
    );
    // Another worker claims `raced` between this one's look at the pending list and its claim.
    const racing = new Proxy(redis, {
      get(target, property) {
        if (property === 'xclaimBuffer') {
          return async (...args: unknown[]) => {
            await redis.xclaim(own.streamKey, FAN_OUT_GROUP, 'other', 0, raced);
            return (target as unknown as Record<string, (...a: unknown[]) => unknown>)[
              'xclaimBuffer'
            ](...args);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    const result = await sameLogOn(racing, own).claimAbandoned('c2', 50, 10, 5);
    expect(result.claimed.map((e) => e.entryId)).toEqual([kept]);
    expect((await pendingOf(redis, own)).map((p) => [p.id, p.consumer])).toEqual([
      [raced, 'other'],
      [kept, 'c2'],
    ]);
  });

  it('acknowledges a pending entry whose data is gone when Redis answers its claim with nil', async () => {
    // Redis before 7 keeps such an entry pending and answers nil for it; later ones drop it.
    const own = ownLog('claim-nil');
    await own.ensureGroup();
    const [gone, kept] = (await own.append(batch('cn', 2))) as string[];
    await readAllNew(own, 'c1');
    const olderRedis = new Proxy(redis, {
      get(target, property) {
        if (property === 'xclaimBuffer') {
          return async (...args: (string | number)[]) => {
            const live = args.filter((arg) => arg !== gone);
            const reply = await (
              target as unknown as Record<string, (...a: unknown[]) => Promise<unknown[]>>
            )['xclaimBuffer'](...live);
            return [null, ...reply];
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    const result = await sameLogOn(olderRedis, own).claimAbandoned('c2', 0, 10, 5);
    expect(result.claimed.map((e) => e.entryId)).toEqual([kept]);
    expect((await pendingOf(redis, own)).map((p) => p.id)).toEqual([kept]);
  });

  it('removes consumers that are idle with nothing pending, and only those', async () => {
    const own = ownLog('consumers');
    expect(await own.removeIdleConsumers(0)).toBe(0);
    await own.append(batch('co', 2));
    expect(await own.removeIdleConsumers(0)).toBe(0);
    await own.ensureGroup();
    const [done] = (await own.readNew(reader, 'finished', 1, 10)).map((e) => e.entryId);
    await own.ack([done]);
    await own.readNew(reader, 'busy', 1, 10);
    await waitFor(
      async () => {
        const raw = (await redis.xinfo('CONSUMERS', own.streamKey, FAN_OUT_GROUP)) as unknown[][];
        return raw.every((fields) => Number(fields[fields.indexOf('idle') + 1]) > 50);
      },
      5000,
      'idle consumers',
    );
    expect(await own.removeIdleConsumers(60_000)).toBe(0);
    expect(await own.removeIdleConsumers(50)).toBe(1);
    expect(await consumerNames(redis, own)).toEqual(['busy']);
  });

  describe('trimming', () => {
    const YEAR_MS = 365 * 24 * 3600 * 1000;
    const CAP = { EVENT_RETENTION_MAX_COUNT: '100' };

    /**
     * Trimming is approximate: Redis removes whole stream nodes (at most 100 entries by default),
     * so it removes at most the entries below its threshold, and some when a whole node is.
     * Checks that `removed` of `ids` went, oldest first, and that it stayed within `atMost`.
     */
    async function expectTrimmed(own: EventLog, ids: string[], removed: number, atMost: number) {
      expect(removed).toBeGreaterThan(0);
      expect(removed).toBeLessThanOrEqual(atMost);
      expect(await redis.xlen(own.streamKey)).toBe(ids.length - removed);
      expect((await own.readAfter(undefined, 1))[0].entryId).toBe(ids[removed]);
    }

    async function filled(name: string, n: number): Promise<{ own: EventLog; ids: string[] }> {
      const own = ownLog(name, CAP);
      const ids = (await own.append(batch(name, n))) as string[];
      return { own, ids };
    }

    it('removes nothing without the fan-out group, which has not read anything yet', async () => {
      const { own } = await filled('trim-nogroup', 250);
      expect((await own.trim(Date.now() + YEAR_MS)).removed).toBe(0);
      await redis.xgroup('CREATE', own.streamKey, 'other', '$');
      expect((await own.trim(Date.now() + YEAR_MS)).removed).toBe(0);
      expect(await redis.xlen(own.streamKey)).toBe(250);
    });

    it('keeps acknowledged entries within the window and under the cap', async () => {
      const own = ownLog('trim-young', CAP);
      await own.ensureGroup();
      await own.append(batch('young', 100));
      await own.ack(await readAllNew(own, 'c1'));
      expect((await own.trim(Date.now() + 1000)).removed).toBe(0);
      // A clock before the window starts removes nothing either.
      expect((await own.trim(1000)).removed).toBe(0);
      expect(await redis.xlen(own.streamKey)).toBe(100);
    });

    it('drops acknowledged entries beyond the count cap, oldest first', async () => {
      const { own, ids } = await filled('trim-cap', 250);
      await own.ensureGroup();
      await own.ack(await readAllNew(own, 'c1'));
      await expectTrimmed(own, ids, (await own.trim(Date.now() + 1000)).removed, 150);
    });

    it('drops every acknowledged entry older than the window, whatever the cap allows', async () => {
      const { own } = await filled('trim-old', 250);
      await own.ensureGroup();
      await own.ack(await readAllNew(own, 'c1'));
      expect((await own.trim(Date.now() + YEAR_MS)).removed).toBe(250);
      expect(await redis.xlen(own.streamKey)).toBe(0);
    });

    it('keeps old entries from the oldest one still pending on', async () => {
      const { own, ids } = await filled('trim-pending', 250);
      await own.ensureGroup();
      const read = await readAllNew(own, 'c1');
      await own.ack(read.filter((id) => id !== ids[120]));
      await expectTrimmed(own, ids, (await own.trim(Date.now() + YEAR_MS)).removed, 120);
    });

    it('keeps old entries the fan-out has not read yet', async () => {
      const { own, ids } = await filled('trim-unread', 250);
      await own.ensureGroup();
      await own.ack((await own.readNew(reader, 'c1', 150, 10)).map((e) => e.entryId));
      await expectTrimmed(own, ids, (await own.trim(Date.now() + YEAR_MS)).removed, 150);
      // Nothing read at all: nothing goes.
      const fresh = await filled('trim-none-read', 150);
      await fresh.own.ensureGroup();
      expect((await fresh.own.trim(Date.now() + YEAR_MS)).removed).toBe(0);
    });

    describe('holds and the byte budget', () => {
      /** `n` events appended one at a time, a millisecond apart: holds name milliseconds. */
      async function spaced(own: EventLog, tag: string, n: number, bodyBytes = 40) {
        const ids: string[] = [];
        for (let i = 0; i < n; i++) {
          const body = JSON.stringify({ id: `${tag}-${i}`, pad: 'x'.repeat(bodyBytes) });
          const [id] = await own.append([{ id: `${tag}-${i}`, body }]);
          ids.push(id!);
          const ms = parseEntryId(id!)[0];
          await waitFor(() => Date.now() > ms, 100, 'the next millisecond', 1);
        }
        return ids;
      }

      const hold = (own: EventLog, entryId: string, deliveryId: string) =>
        redis.zadd(own.holdsKey, parseEntryId(entryId)[0], deliveryId);

      it('keeps held entries past the count cap and the window, and removes the finished ones', async () => {
        const own = ownLog('hold-cap', CAP);
        await own.ensureGroup();
        const ids = await spaced(own, 'h', 130);
        await own.ack(await readAllNew(own, 'c1'));
        await hold(own, ids[3], 'd-3');
        await hold(own, ids[10], 'd-10');
        // Over the cap by 30: the 30 oldest finished entries go, exactly, the held ones stay.
        const capped = await own.trim(Date.now());
        expect(capped).toMatchObject({ removed: 30, evicted: 0, released: [], overBudget: false });
        const left = (await own.readAfter(undefined, 1000)).map((e) => e.entryId);
        expect(left).toHaveLength(100);
        expect(left.slice(0, 2)).toEqual([ids[3], ids[10]]);
        expect(left.slice(2)).toEqual(ids.slice(32));
        // Out of the window: every finished entry goes, the held ones stay however old.
        expect((await own.trim(Date.now() + YEAR_MS)).removed).toBe(98);
        expect((await own.readAfter(undefined, 10)).map((e) => e.entryId)).toEqual([
          ids[3],
          ids[10],
        ]);
        // Released (the delivery ended): the next trim removes it.
        await redis.zrem(own.holdsKey, 'd-3');
        expect((await own.trim(Date.now() + YEAR_MS)).removed).toBe(1);
        expect(await redis.xlen(own.streamKey)).toBe(1);
      });

      it('counts the bytes it holds, and gives back what it removes', async () => {
        const own = ownLog('hold-bytes', CAP);
        await own.ensureGroup();
        await spaced(own, 'b', 20);
        const { bytes } = (await own.stats()).retention;
        const entries = (await redis.xrangeBuffer(own.streamKey, '-', '+')) as unknown as [
          Buffer,
          Buffer[],
        ][];
        const exact = entries.reduce(
          (sum, [, fields]) => sum + fields.reduce((n, f) => n + f.length, 0),
          0,
        );
        expect(bytes).toBe(exact);
        await own.ack(await readAllNew(own, 'c1'));
        const trimmed = await own.trim(Date.now() + YEAR_MS);
        expect(trimmed).toMatchObject({ removed: 20, bytes: 0 });
        expect((await own.stats()).retention.bytes).toBe(0);
      });

      it('over the byte budget, removes finished entries first, then evicts the oldest held ones and releases their holds', async () => {
        const budget = 65_536;
        const own = ownLog('hold-budget', { EVENT_RETENTION_MAX_BYTES: String(budget) });
        await own.ensureGroup();
        // 60 entries of ~2.6 KiB once compressed: over twice the budget.
        const noise = (i: number) => randomText(4_000, i);
        const ids: string[] = [];
        for (let i = 0; i < 60; i++) {
          const [id] = await own.append([{ id: `o-${i}`, body: noise(i) }]);
          ids.push(id!);
          const ms = parseEntryId(id!)[0];
          await waitFor(() => Date.now() > ms, 100, 'the next millisecond', 1);
        }
        await own.ack(await readAllNew(own, 'c1'));
        // The 40 newest are held: ~100 KiB, alone over the budget.
        for (let i = 20; i < 60; i++) {
          await hold(own, ids[i], `d-${i}`);
        }
        const result = await own.trim(Date.now());
        expect(result.overBudget).toBe(true);
        expect(result.bytes).toBeLessThanOrEqual(budget);
        expect(result.evicted).toBeGreaterThan(0);
        // Every finished entry went before any held one.
        expect(result.removed).toBe(20 + result.evicted);
        const left = (await own.readAfter(undefined, 100)).map((e) => e.entryId);
        expect(left).toEqual(ids.slice(20 + result.evicted));
        // The evicted entries' holds come back, for their deliveries to be recorded as skipped.
        expect(result.released).toEqual(
          ids
            .slice(20, 20 + result.evicted)
            .map((_, i) => ({ deliveryId: `d-${20 + i}`, cause: 'over-budget' })),
        );
        expect(await redis.zcard(own.holdsKey)).toBe(40 - result.evicted);
        const sinceMs = await own.markOverBudget(1_000, result.evicted);
        expect(sinceMs).toBe(1_000);
        expect(await own.markOverBudget(2_000, 0)).toBe(1_000);
        expect((await own.stats()).retention.overBudget).toEqual({
          since: new Date(1_000).toISOString(),
          last: new Date(2_000).toISOString(),
          evicted: result.evicted,
        });
      });

      it('goes on past many held entries where the last trim stopped, so each trim does bounded work', async () => {
        const own = ownLog('hold-rolling', CAP);
        await own.ensureGroup();
        const held: string[] = [];
        for (let b = 0; b < 21; b++) {
          held.push(...((await own.append(batch(`held${b}`, 500))) as string[]));
        }
        const heldMs = new Set(held.map((id) => parseEntryId(id)[0]));
        await waitFor(() => Date.now() > Math.max(...heldMs), 100, 'the next millisecond', 1);
        const finished = (await own.append(batch('fin', 500))) as string[];
        for (const ms of heldMs) {
          await redis.zadd(own.holdsKey, ms, `d-${ms}`);
        }
        let read: string[] = [];
        do {
          read = await readAllNew(own, 'c1');
          await own.ack(read);
        } while (read.length > 0);
        // 10,500 held entries first: one trim passes over 10,000 of them and stops there.
        expect((await own.trim(Date.now())).removed).toBe(0);
        // The next goes on from there and reaches the finished ones beyond the cap.
        expect((await own.trim(Date.now())).removed).toBe(500);
        expect(await redis.xlen(own.streamKey)).toBe(held.length);
        expect((await own.readAfter(undefined, 1))[0].entryId).toBe(held[0]);
        expect(finished.every((id) => parseEntryId(id)[0] > Math.max(...heldMs))).toBe(true);
      });

      it('releases holds whose entry is gone already', async () => {
        const own = ownLog('hold-gone', CAP);
        await own.ensureGroup();
        const ids = await spaced(own, 'g', 3);
        await own.ack(await readAllNew(own, 'c1'));
        await redis.zadd(own.holdsKey, 1_000, 'd-ancient');
        await hold(own, ids[1], 'd-1');
        const result = await own.trim(Date.now());
        expect(result.released).toEqual([{ deliveryId: 'd-ancient', cause: 'gone' }]);
        expect(await redis.zrange(own.holdsKey, 0, -1)).toEqual(['d-1']);
        // The audit of stale holds reads the oldest and drops the ones it names.
        await hold(own, ids[2], 'd-2');
        await expect(own.oldestHolds(1)).resolves.toEqual(['d-1']);
        await own.releaseHolds(['d-1']);
        await own.releaseHolds([]);
        await expect(own.oldestHolds(10)).resolves.toEqual(['d-2']);
      });
    });
  });
});
