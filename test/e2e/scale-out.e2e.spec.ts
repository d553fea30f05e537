import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { OpentactSimulator } from '../../src/simulator/opentact-simulator';
import { createSubscription, E2E_ADMIN_KEY, opentactEnv, until } from '../support/e2e-env';
import { deletePrefix, TEST_REDIS_URL } from '../support/harness';
import {
  killAllServices,
  metricSum,
  parseMetrics,
  type ServiceProcess,
  startService,
} from '../support/process-harness';
import { RecordingReceiver } from '../support/recording-receiver';
import { waitForSettled, waitForSubscriptions } from '../support/service-conditions';

const FRAMES = 500;
const RATE = 200;

/**
 * Two ingest processes (both hold a WSS and receive every frame), two worker processes and an
 * api process on one Redis Cluster style prefix: each event reaches each subscription once.
 */
describe('scale-out: 2 ingest + 2 worker processes deliver exactly once per subscription', () => {
  const tag = `otb-e2e-${randomBytes(4).toString('hex')}`;
  const prefix = `{${tag}}`;
  let sim: OpentactSimulator;
  let receiver: RecordingReceiver;

  beforeAll(async () => {
    sim = new OpentactSimulator({ port: 0 });
    receiver = new RecordingReceiver({ a: { status: 204 }, b: { status: 204 } });
    await Promise.all([sim.start(), receiver.start()]);
  });

  afterAll(async () => {
    await killAllServices();
    await Promise.all([sim?.stop(), receiver?.stop()]);
    await deletePrefix(prefix);
  });

  it('no event missing, no webhook-id twice per receiver, every key under the hash tag', async () => {
    const common = { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'info' };
    const start = (name: string, env: Record<string, string>): Promise<ServiceProcess> =>
      startService({ name, env: { ...common, ...env } });
    const [api, ingest1, ingest2, worker1, worker2] = await Promise.all([
      start('api', { APP_ROLE: 'api', ADMIN_API_KEY: E2E_ADMIN_KEY }),
      start('ingest-1', { APP_ROLE: 'ingest', ...opentactEnv(sim) }),
      start('ingest-2', { APP_ROLE: 'ingest', ...opentactEnv(sim) }),
      start('worker-1', { APP_ROLE: 'worker' }),
      start('worker-2', { APP_ROLE: 'worker' }),
    ]);
    const ingests = [ingest1, ingest2];
    const workers = [worker1, worker2];
    await Promise.all([api, ...ingests, ...workers].map((p) => p.waitForReady(200)));
    await until(() => sim.stats.authenticated === 2, 10_000, 'both ingest sockets');
    await Promise.all([
      createSubscription(api, { url: receiver.url('a'), eventTypes: ['*'] }),
      createSubscription(api, { url: receiver.url('b'), eventTypes: ['*'] }),
    ]);
    // Both workers match events against both subscriptions before the load starts.
    await Promise.all(workers.map((w) => waitForSubscriptions(w, 2)));

    await sim.emitAtRate({ ratePerSecond: RATE, count: FRAMES, kind: 'mixed' });
    const sent = sim.sentLog;
    expect(sent.length).toBe(FRAMES);
    expect(sent.every((e) => e.sockets === 2)).toBe(true); // both ingests got every frame
    const expected = new Set(sent.map((e) => e.id));

    await until(
      () => receiver.on('a').length >= FRAMES && receiver.on('b').length >= FRAMES,
      30_000,
      `${FRAMES} deliveries per receiver (a: ${receiver.on('a').length}, b: ${receiver.on('b').length})`,
    );
    // Nothing left in fan-out or in the queue: a late duplicate would have arrived by now.
    await waitForSettled(api, 20_000);
    for (const route of ['a', 'b']) {
      const ids = receiver.on(route).map((w) => w.webhookId);
      const unique = new Set(ids);
      const missing = [...expected].filter((id) => !unique.has(id));
      expect({ route, requests: ids.length, unique: unique.size, missing }).toEqual({
        route,
        requests: FRAMES,
        unique: FRAMES,
        missing: [],
      });
    }

    // Dedup across the two ingests: each event enqueued once, its twin counted as a duplicate.
    const scraped = await Promise.all(
      [...ingests, ...workers].map(async (p) =>
        parseMetrics((await p.get<string>('/metrics')).body),
      ),
    );
    const total = (name: string, labels: Record<string, string> = {}, from = scraped): number =>
      from.reduce((sum, m) => sum + metricSum(m.samples, name, labels), 0);
    const ingestMetrics = scraped.slice(0, 2);
    const workerMetrics = scraped.slice(2);
    const perWorker = workerMetrics.map((m) =>
      metricSum(m.samples, 'otb_deliveries_total', { outcome: 'success' }),
    );
    console.log(
      JSON.stringify({
        prefix,
        frames: FRAMES,
        enqueued: total('otb_events_enqueued_total', {}, ingestMetrics),
        duplicatesSuppressed: total('otb_events_duplicates_total', {}, ingestMetrics),
        deliveriesPerWorker: perWorker,
      }),
    );
    expect(total('otb_events_enqueued_total', {}, ingestMetrics)).toBe(FRAMES);
    expect(total('otb_events_duplicates_total', {}, ingestMetrics)).toBe(FRAMES);
    expect(perWorker.reduce((a, b) => a + b, 0)).toBe(2 * FRAMES);
    expect(perWorker.every((n) => n > 0)).toBe(true); // both workers took a share

    // Redis Cluster needs every key of the service in one slot: all start with the hash tag.
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `*${tag}*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.filter((k) => !k.startsWith(`${prefix}:`))).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});
