import type { Redis } from 'ioredis';
import type { AppConfig } from '../config/app-config';
import { compareEntryIds, EventLog, FAN_OUT_GROUP, nextEntryId, parseEntryId } from './event-log';

describe('stream entry ids', () => {
  it('reads `<ms>-<seq>` as numbers, and a bare time as its first entry', () => {
    expect(parseEntryId('1700000000000-12')).toEqual([1700000000000, 12]);
    expect(parseEntryId('1700000000000')).toEqual([1700000000000, 0]);
    // A dash in first place still splits: no milliseconds, then the sequence.
    expect(parseEntryId('-7')).toEqual([0, 7]);
  });

  it('orders by time, then by sequence, as numbers rather than text', () => {
    expect(compareEntryIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareEntryIds('10-0', '9-5')).toBeGreaterThan(0);
    expect(compareEntryIds('5-2', '5-10')).toBeLessThan(0);
    expect(compareEntryIds('5-10', '5-2')).toBeGreaterThan(0);
    expect(compareEntryIds('5-3', '5-3')).toBe(0);
  });

  it('gives the smallest id after another', () => {
    expect(nextEntryId('1700000000000-9')).toBe('1700000000000-10');
    expect(nextEntryId('0-0')).toBe('0-1');
  });
});

/**
 * Replies Redis gives on some servers or in some states only; the integration spec covers the
 * rest against a real server.
 */
describe('EventLog reading XINFO replies', () => {
  const config = {
    redis: { prefix: 'unit' },
    eventRetentionSeconds: 3600,
    eventRetentionMaxCount: 1000,
    eventRetentionMaxBytes: 65_536,
  } as AppConfig;

  function logWith(replies: Record<string, jest.Mock>): EventLog {
    return new EventLog(replies as unknown as Redis, config);
  }

  it('removes a consumer idle longer than the bound, not one idle exactly that long', async () => {
    const consumer = (name: string, idle: number) => ['name', name, 'pending', 0, 'idle', idle];
    const xgroup = jest.fn().mockResolvedValue(1);
    const log = logWith({
      xinfo: jest.fn().mockResolvedValue([consumer('at-bound', 5000), consumer('past', 5001)]),
      xgroup,
    });
    await expect(log.removeIdleConsumers(5000)).resolves.toBe(1);
    expect(xgroup.mock.calls).toEqual([['DELCONSUMER', log.streamKey, FAN_OUT_GROUP, 'past']]);
  });

  it('has no backlog figure from a server that does not report the lag (before Redis 7)', async () => {
    const log = logWith({
      xlen: jest.fn().mockResolvedValue(4),
      xinfo: jest
        .fn()
        .mockResolvedValue([
          ['name', FAN_OUT_GROUP, 'pending', 0, 'last-delivered-id', '5-0', 'consumers', 1],
        ]),
      get: jest.fn().mockResolvedValue('120'),
      zcard: jest.fn().mockResolvedValue(2),
      hgetall: jest.fn().mockResolvedValue({}),
    });
    await expect(log.stats()).resolves.toEqual({
      length: 4,
      backlog: undefined,
      pending: 0,
      retention: { bytes: 120, budgetBytes: 65_536, heldDeliveries: 2 },
    });
  });

  it('reads a counter driven below zero, or unreadable, as no bytes', async () => {
    for (const stored of ['-40', 'garbage', null]) {
      const log = logWith({
        get: jest.fn().mockResolvedValue(stored),
        zcard: jest.fn().mockResolvedValue(0),
        hgetall: jest.fn().mockResolvedValue({}),
      });
      await expect(log.retention()).resolves.toMatchObject({ bytes: 0 });
    }
  });
});
