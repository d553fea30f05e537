import { Redis } from 'ioredis';
import { EventLog } from '../../../src/events/event-log';
import { MetricsService } from '../../../src/metrics/metrics.service';
import { OpentactConnection } from '../../../src/platform/opentact-connection.service';
import { redisKey } from '../../../src/redis/redis-connection.factory';
import { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import {
  deletePrefix,
  startApp,
  type StartedApp,
  testRedis,
  uniquePrefix,
  waitFor,
} from '../../support/harness';

async function enqueueErrors(app: StartedApp): Promise<number> {
  const metric = await app.app
    .get(MetricsService)
    .registry.getSingleMetric('otb_enqueue_errors_total')
    ?.get();
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

/**
 * A Redis write that errors (not one that stalls: see the back-pressure test) is retried until it
 * succeeds; the frame is not dropped. The error is a real one from Redis: the event log's key
 * holds a string, so the append script's XADD answers WRONGTYPE and writes nothing.
 */
describe('ingest: a failed event-log write is retried, not dropped', () => {
  const prefix = uniquePrefix('ingest-write-errors');
  let sim: OpentactSimulator;
  let app: StartedApp;
  let redis: Redis;

  beforeAll(async () => {
    sim = new OpentactSimulator({ port: 0 });
    await sim.start();
    redis = testRedis();
    app = await startApp({
      APP_ROLE: 'ingest',
      OPENTACT_REST_URL: sim.restUrl,
      OPENTACT_WSS_URL: sim.wssUrl,
      OPENTACT_EMAIL: 'demo@opentact.local',
      OPENTACT_PASSWORD: 'demo-password',
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
    redis?.disconnect();
    await deletePrefix(prefix);
  });

  it('keeps the frame until Redis takes it, then appends it once', async () => {
    const streamKey = redisKey(app.config.redis.prefix, 'event-log');
    await redis.del(streamKey);
    await redis.set(streamKey, 'not a stream');
    const before = await enqueueErrors(app);

    const [frame] = sim.emitScenario('balance', 'newer');
    const eventId = frame.uuid as string;
    // At least two failed writes: the retry itself is retried.
    await waitFor(
      async () => (await enqueueErrors(app)) >= before + 2,
      10_000,
      'the write to fail twice',
    );
    const log = app.app.get(EventLog);
    expect(await log.entryIdOf(eventId)).toBeUndefined();
    expect(app.logs.some((l) => l.includes('Redis write failed, retrying'))).toBe(true);

    await redis.del(streamKey);
    // The retry backs off up to 5 s between writes; a loaded machine gets as long again.
    const logged = await waitFor(() => log.get(eventId), 12_000, 'the event to be appended');
    expect(JSON.parse(logged.body)).toMatchObject({ id: eventId });
    expect((await log.stats()).length).toBe(1);
  });
});
