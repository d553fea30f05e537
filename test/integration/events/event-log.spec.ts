import 'reflect-metadata';
import { Redis } from 'ioredis';
import { loadConfig } from '../../../src/config/app-config';
import { EventLog } from '../../../src/events/event-log';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../../support/harness';

function logFor(redis: Redis, prefix: string): EventLog {
  const config = loadConfig({
    APP_ROLE: 'worker',
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    EVENT_RETENTION_SECONDS: '3600',
  });
  return new EventLog(redis, config);
}

describe('EventLog against Redis', () => {
  const prefix = uniquePrefix('event-log');
  let redis: Redis;
  let log: EventLog;

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
    log = logFor(redis, prefix);
  });

  afterAll(async () => {
    redis.disconnect();
    await deletePrefix(prefix);
  });

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
});
