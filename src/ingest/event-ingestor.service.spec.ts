import pino from 'pino';
import type { AppConfig } from '../config/app-config';
import type { EventLog, EventToAppend } from '../events/event-log';
import { EventNormalizer } from '../events/event-normalizer.service';
import type { QuarantineRepository } from '../events/quarantine.repository';
import { MetricsService } from '../metrics/metrics.service';
import { EventIngestor, IngestStoppedError } from './event-ingestor.service';

const FRAME = Buffer.from(
  JSON.stringify({
    type: 'balance',
    uuid: '3f6c1a52-8a7e-4c55-9a43-0d3f2b1c9e11',
    payload: { amount: 12.5, source_action: 'charge', message: 'charged' },
  }),
);

async function errorsCounted(metrics: MetricsService): Promise<number> {
  const metric = await metrics.enqueueErrors.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

/** The ingestor over an event log and a quarantine that fail their first `failures` writes. */
function setUp(failures: number) {
  const appends: EventToAppend[][] = [];
  const log = {
    append: (events: EventToAppend[]) => {
      appends.push(events);
      if (appends.length <= failures) {
        return Promise.reject(new Error(`ERR write ${appends.length} refused`));
      }
      return Promise.resolve(events.map((_, i) => `1-${i}`));
    },
  } as unknown as EventLog;
  const quarantined: unknown[] = [];
  const quarantine = {
    add: (entry: unknown) => {
      quarantined.push(entry);
      if (quarantined.length <= failures) {
        return Promise.reject(new Error('ERR quarantine write refused'));
      }
      return Promise.resolve({ id: 'q1', size: 1 });
    },
  } as unknown as QuarantineRepository;
  const config = { opentact: { maxFrameBytes: 1_000_000 } } as unknown as AppConfig;
  const metrics = new MetricsService();
  const ingestor = new EventIngestor(
    new EventNormalizer(config),
    log,
    quarantine,
    metrics,
    pino({ level: 'silent' }),
  );
  return { ingestor, appends, metrics, quarantined };
}

describe('EventIngestor', () => {
  it('retries an append that fails until Redis takes it, and only then settles the frame', async () => {
    const { ingestor, appends, metrics } = setUp(2);
    let settled = false;
    const stored = ingestor.onFrame(FRAME, false, Date.now()).then(() => {
      settled = true;
    });
    // Pending while the writes fail: the connection keeps counting it, and pauses if many pile up.
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    await stored;
    expect(appends).toHaveLength(3);
    // The same event every time, not a new one.
    expect(new Set(appends.map((batch) => batch[0].id))).toEqual(new Set([appends[0][0].id]));
    expect(appends[0][0].id).toBe('3f6c1a52-8a7e-4c55-9a43-0d3f2b1c9e11');
    expect(await errorsCounted(metrics)).toBe(2);
  });

  it('waits between retries instead of hammering Redis', async () => {
    const { ingestor, appends } = setUp(1);
    const started = Date.now();
    await ingestor.onFrame(FRAME, false, Date.now());
    expect(appends).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
  });

  it('gives up, saying so, only once the service is stopping', async () => {
    const { ingestor, appends, metrics } = setUp(Number.POSITIVE_INFINITY);
    const stored = ingestor.onFrame(FRAME, false, Date.now());
    const outcome = stored.then(
      () => 'stored',
      (e: unknown) => e,
    );
    // Still retrying after a few failures.
    for (let i = 0; i < 200 && appends.length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(appends.length).toBeGreaterThanOrEqual(2);
    ingestor.beforeApplicationShutdown();
    const error = await outcome;
    expect(error).toBeInstanceOf(IngestStoppedError);
    expect((error as IngestStoppedError).code).toBe('INGEST_STOPPED');
    expect(await errorsCounted(metrics)).toBe(appends.length);
  });

  it('stores a frame that is not an event in quarantine, retrying a failed write', async () => {
    const { ingestor, quarantined, metrics } = setUp(1);
    await ingestor.onFrame(Buffer.from('this is { not json'), false, Date.now());
    expect(quarantined).toHaveLength(2);
    expect(quarantined[1]).toEqual(quarantined[0]);
    expect(await errorsCounted(metrics)).toBe(1);
  });
});
