import { Redis } from 'ioredis';
import type { AppConfig } from '../../../src/config/app-config';
import { QuarantineReason } from '../../../src/events/normalized-event';
import { QuarantineRepository } from '../../../src/events/quarantine.repository';
import { deletePrefix, TEST_REDIS_URL, uniquePrefix } from '../../support/harness';

const KIB = 1024;

function repository(
  redis: Redis,
  prefix: string,
  caps: { maxCount?: number; maxBytes?: number; maxFrameBytes?: number } = {},
): QuarantineRepository {
  const config = {
    redis: { prefix },
    quarantineMaxCount: caps.maxCount ?? 10_000,
    quarantineMaxBytes: caps.maxBytes ?? 1024 * KIB,
    opentact: { maxFrameBytes: caps.maxFrameBytes ?? 64 * KIB },
  } as AppConfig;
  return new QuarantineRepository(redis, config);
}

function frame(bytes: number, fill = 'x'): Buffer {
  return Buffer.alloc(bytes, fill);
}

const add = (repo: QuarantineRepository, data: Buffer, detail = 'too large') =>
  repo.add({
    data,
    isBinary: false,
    reason: QuarantineReason.TooLarge,
    detail,
    at: new Date('2024-03-01T12:00:00.000Z'),
  });

/** What the list really takes: the byte length of every stored entry. */
async function storedBytes(redis: Redis, prefix: string): Promise<number> {
  const items = await redis.lrangeBuffer(`${prefix}:quarantine`, 0, -1);
  return items.reduce((sum, item) => sum + item.length, 0);
}

describe('QuarantineRepository against Redis', () => {
  let redis: Redis;
  let prefix: string;

  beforeEach(() => {
    redis = new Redis(TEST_REDIS_URL);
    prefix = uniquePrefix('quarantine');
  });

  afterEach(async () => {
    await deletePrefix(prefix);
    redis.disconnect();
  });

  it('gives back the bytes of a frame that is not UTF-8 exactly, with no U+FFFD in their place', async () => {
    const repo = repository(redis, prefix);
    const bytes = Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0xff, 0x80, 0xed, 0xa0, 0x80, 0x22, 0x7d]);
    const added = await repo.add({
      data: bytes,
      isBinary: false,
      reason: QuarantineReason.InvalidUtf8,
      detail: 'text frame is not valid UTF-8 (first bad byte at offset 2)',
      at: new Date('2024-03-01T12:00:00.000Z'),
    });
    const { items } = await repo.list(0, 10);
    expect(items).toEqual([added]);
    const back = Buffer.from(items[0].rawBase64, 'base64');
    expect(back.equals(bytes)).toBe(true);
    expect(back.includes(Buffer.from('\ufffd'))).toBe(false);
    expect(items[0]).toMatchObject({ size: bytes.length, truncated: false, binary: false });
    expect(await repo.counts()).toEqual({ invalid_utf8: 1 });
  });

  it('keeps the newest frames within the byte cap, whatever the count cap allows', async () => {
    const repo = repository(redis, prefix, { maxBytes: 1024 * KIB, maxFrameBytes: 64 * KIB });
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      ids.push((await add(repo, frame(64 * KIB), `frame ${i}`)).id);
    }
    const usage = await repo.usage();
    expect(usage.bytes).toBe(await storedBytes(redis, prefix));
    expect(usage.bytes).toBeLessThanOrEqual(1024 * KIB);
    // 64 KiB of raw bytes is about 87 KiB of base64 JSON: 11 of them fit in 1 MiB.
    expect(usage.count).toBe(11);
    const { items } = await repo.list(0, 100);
    expect(items.map((i) => i.id)).toEqual(ids.slice(-11).reverse());
    expect(await repo.counts()).toEqual({ too_large: 100 });
  });

  it('still applies the count cap', async () => {
    const repo = repository(redis, prefix, { maxCount: 10 });
    for (let i = 0; i < 25; i++) {
      await add(repo, frame(100));
    }
    const usage = await repo.usage();
    expect(usage.count).toBe(10);
    expect(usage.bytes).toBe(await storedBytes(redis, prefix));
  });

  it('keeps the byte total exact under concurrent writers', async () => {
    const repo = repository(redis, prefix, { maxBytes: 256 * KIB, maxFrameBytes: 16 * KIB });
    const other = new Redis(TEST_REDIS_URL);
    try {
      const second = repository(other, prefix, { maxBytes: 256 * KIB, maxFrameBytes: 16 * KIB });
      await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          add(i % 2 === 0 ? repo : second, frame(1 + ((i * 997) % (16 * KIB)))),
        ),
      );
      const usage = await repo.usage();
      expect(usage.bytes).toBe(await storedBytes(redis, prefix));
      expect(usage.bytes).toBeLessThanOrEqual(256 * KIB);
    } finally {
      other.disconnect();
    }
  });

  it('cuts one frame to a share of the cap and records the size it really had', async () => {
    const repo = repository(redis, prefix, { maxBytes: 64 * KIB, maxFrameBytes: 1024 * KIB });
    expect(repo.maxRawBytes).toBe(16 * KIB);
    const entry = await add(repo, frame(200 * KIB));
    expect(entry).toMatchObject({ size: 200 * KIB, truncated: true });
    expect(Buffer.from(entry.rawBase64, 'base64')).toHaveLength(16 * KIB);

    // A frame the socket never read: only its size is known.
    const unread = await repo.add({
      data: Buffer.alloc(0),
      size: 20 * 1024 * KIB,
      isBinary: false,
      reason: QuarantineReason.TooLarge,
      detail: 'closed the socket',
      at: new Date(),
    });
    expect(unread).toMatchObject({ size: 20 * 1024 * KIB, truncated: true, rawBase64: '' });
    expect((await repo.usage()).count).toBe(2);
  });

  it('measures and trims a list written before the byte cap existed', async () => {
    const listKey = `${prefix}:quarantine`;
    const legacy = JSON.stringify({ id: 'old', rawBase64: 'x'.repeat(100 * KIB) });
    for (let i = 0; i < 30; i++) {
      await redis.lpush(listKey, legacy);
    }
    const repo = repository(redis, prefix, { maxBytes: 1024 * KIB });
    await add(repo, frame(10));
    const usage = await repo.usage();
    expect(usage.bytes).toBe(await storedBytes(redis, prefix));
    expect(usage.bytes).toBeLessThanOrEqual(1024 * KIB);
    // Ten 100 KiB legacy entries fit beside the new one.
    expect(usage.count).toBe(11);
    const { items } = await repo.list(0, 1);
    expect(items[0].id).not.toBe('old');
  });

  it('starts counting afresh when the list was emptied by hand', async () => {
    const repo = repository(redis, prefix);
    await add(repo, frame(1000));
    await redis.del(`${prefix}:quarantine`);
    await add(repo, frame(10));
    expect((await repo.usage()).bytes).toBe(await storedBytes(redis, prefix));
  });

  it('keeps its list, counts and byte total under fixed key names, so an upgrade finds them', async () => {
    await add(repository(redis, prefix), frame(10));
    const keys = (await redis.keys(`${prefix}:*`)).sort();
    expect(keys).toEqual([
      `${prefix}:quarantine`,
      `${prefix}:quarantine:bytes`,
      `${prefix}:quarantine:counts`,
    ]);
    expect(Number(await redis.get(`${prefix}:quarantine:bytes`))).toBe(
      await storedBytes(redis, prefix),
    );
  });

  it('pages newest first, exactly a page, and marks only a cut frame as truncated', async () => {
    const repo = repository(redis, prefix, { maxBytes: 64 * KIB, maxFrameBytes: 64 * KIB });
    const whole = await add(repo, frame(10), 'first');
    await add(repo, frame(20), 'second');
    const cut = await add(repo, frame(repo.maxRawBytes + 1), 'third');
    expect(whole).toMatchObject({ size: 10, truncated: false });
    expect(cut).toMatchObject({ size: repo.maxRawBytes + 1, truncated: true });
    const page = await repo.list(0, 2);
    expect(page.total).toBe(3);
    expect(page.items.map((i) => i.detail)).toEqual(['third', 'second']);
    expect((await repo.list(2, 2)).items.map((i) => i.detail)).toEqual(['first']);
  });

  it('reports nothing in use once the list is gone, whatever the byte total says', async () => {
    const repo = repository(redis, prefix);
    await add(repo, frame(1000));
    await redis.del(`${prefix}:quarantine`);
    expect(await repo.usage()).toEqual({ count: 0, bytes: 0 });
  });
});
