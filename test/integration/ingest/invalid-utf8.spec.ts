import { EventLog } from '../../../src/events/event-log';
import { QuarantineReason } from '../../../src/events/normalized-event';
import { QuarantineRepository } from '../../../src/events/quarantine.repository';
import { parseWebhookBody } from '../../../src/events/webhook-body';
import { EventIngestor } from '../../../src/ingest/event-ingestor.service';
import { MetricsService } from '../../../src/metrics/metrics.service';
import { OpentactConnection } from '../../../src/platform/opentact-connection.service';
import { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import {
  deletePrefix,
  startApp,
  type StartedApp,
  testRedis,
  uniquePrefix,
  waitFor,
} from '../../support/harness';
import { opentactEnv } from '../../support/simulator-login';

/**
 * A text frame whose bytes are not UTF-8, handed to the ingest sink (the frame sink the WSS client
 * calls with the bytes it read) of a running ingest service, stored in real Redis.
 */
describe('ingest: a text frame that is not UTF-8', () => {
  let sim: OpentactSimulator;
  let app: StartedApp;
  const prefix = uniquePrefix('ingest-utf8');

  beforeAll(async () => {
    sim = new OpentactSimulator({ port: 0 });
    await sim.start();
    app = await startApp({
      APP_ROLE: 'ingest',
      ...opentactEnv(sim),
      QUEUE_PREFIX: prefix,
    });
    await waitFor(
      () => app.app.get(OpentactConnection).isAuthenticated(),
      10_000,
      'authentication',
    );
  });

  afterAll(async () => {
    await app?.app.close();
    await sim?.stop();
    await deletePrefix(prefix);
  });

  it('is quarantined as invalid_utf8 with its exact bytes, counted, and the next frame still goes through', async () => {
    // 0xC3 0x28 (a lead byte cut short) and a lone 0xFF, inside the message of a balance frame.
    const bad = Buffer.concat([
      Buffer.from('{"type":"balance","timestamp":"2024-03-01T12:00:00.000Z","payload":5,'),
      Buffer.from('"message":"top-up '),
      Buffer.from([0xc3, 0x28, 0x20, 0xff]),
      Buffer.from('"}'),
    ]);
    const good = Buffer.from(
      JSON.stringify({
        type: 'balance',
        timestamp: '2024-03-01T12:00:01.000Z',
        payload: 6,
        message: 'top-up é',
      }),
    );
    const ingestor = app.app.get(EventIngestor);
    await ingestor.onFrame(bad, false, Date.parse('2024-03-01T12:00:02.000Z'));
    await ingestor.onFrame(good, false, Date.parse('2024-03-01T12:00:03.000Z'));

    const page = await app.app.get(QuarantineRepository).list(0, 10);
    expect(page.total).toBe(1);
    const [entry] = page.items;
    expect(entry).toMatchObject({
      reason: QuarantineReason.InvalidUtf8,
      binary: false,
      size: bad.length,
      truncated: false,
    });
    expect(entry.detail).toMatch(/not valid UTF-8.*offset 87/);
    // Byte for byte, not a U+FFFD-replaced copy (which would be longer and hold EF BF BD).
    expect(Buffer.from(entry.rawBase64, 'base64').equals(bad)).toBe(true);

    // The same, read straight from Redis, so no decoding on the way back hides a change.
    const redis = testRedis();
    try {
      const stored = await redis.lrange(`${prefix}:quarantine`, 0, -1);
      expect(stored).toHaveLength(1);
      const parsed = JSON.parse(stored[0]) as { rawBase64: string };
      expect(Buffer.from(parsed.rawBase64, 'base64')).toEqual(bad);
      expect(await redis.hget(`${prefix}:quarantine:counts`, 'invalid_utf8')).toBe('1');
    } finally {
      redis.disconnect();
    }

    const quarantined = await app.app
      .get(MetricsService)
      .registry.getSingleMetric('otb_frames_quarantined_total')
      ?.get();
    expect(
      quarantined?.values.find((v) => v.labels.reason === QuarantineReason.InvalidUtf8)?.value,
    ).toBe(1);

    const events = await waitFor(
      async () => {
        const read = await app.app.get(EventLog).readAfter(undefined, 10);
        return read.length === 1 ? read : undefined;
      },
      5_000,
      'the valid frame appended',
    );
    expect(parseWebhookBody(events[0].body).data).toMatchObject({ amount: 6, message: 'top-up é' });
  });
});
