import type { Logger } from 'pino';
import type { EventLog, TrimResult } from '../events/event-log';
import { EventType } from '../events/event-type.enum';
import type { MetricsService } from '../metrics/metrics.service';
import type { OperationalStatsRepository } from '../metrics/operational-stats.repository';
import type { DeliveryRecordRepository } from './delivery-record.repository';
import { DeliveryStatus } from './delivery.model';
import { EventLogRetention, GONE_REASON, OVER_BUDGET_REASON } from './event-log-retention';
import type { OperationalEvents } from './operational-events';

const NOW = Date.parse('2026-12-01T10:00:00.000Z');

function trimmed(over: Partial<TrimResult> = {}): TrimResult {
  return {
    removed: 0,
    evicted: 0,
    released: [],
    bytes: 100,
    budgetBytes: 1_000,
    overBudget: false,
    ...over,
  };
}

function setUp(
  result: TrimResult,
  skippable: ReadonlySet<string> = new Set(),
  holds: string[] = [],
  statuses: (DeliveryStatus | undefined)[] = [],
) {
  const log = {
    trim: jest.fn((_now: number) => Promise.resolve(result)),
    markOverBudget: jest.fn((_at: number, _evicted: number) => Promise.resolve(NOW - 60_000)),
    oldestHolds: jest.fn((_count: number) => Promise.resolve(holds)),
    releaseHolds: jest.fn((_ids: readonly string[]) => Promise.resolve()),
  };
  const records = {
    skipOpen: jest.fn((ids: readonly string[], _at: number, _reason: string) =>
      Promise.resolve(ids.filter((id) => skippable.has(id))),
    ),
    statuses: jest.fn((_ids: readonly string[]) => Promise.resolve(statuses)),
  };
  const metrics = {
    eventLogEvicted: { inc: jest.fn() },
    deliveries: { inc: jest.fn() },
  };
  const stats = { countDelivery: jest.fn() };
  const operational = { emit: jest.fn(() => Promise.resolve()) };
  const logger = { child: () => logger, warn: jest.fn(), error: jest.fn() };
  const retention = new EventLogRetention(
    log as unknown as EventLog,
    records as unknown as DeliveryRecordRepository,
    metrics as unknown as MetricsService,
    stats as unknown as OperationalStatsRepository,
    operational as unknown as OperationalEvents,
    logger as unknown as Logger,
  );
  return { retention, log, records, metrics, stats, operational, logger };
}

describe('EventLogRetention', () => {
  it('only trims while the log is within its budget: no skip, no alarm', async () => {
    const t = setUp(trimmed({ removed: 40 }));
    await expect(t.retention.enforce(NOW)).resolves.toMatchObject({ removed: 40 });
    expect(t.log.trim).toHaveBeenCalledWith(NOW);
    expect(t.records.skipOpen).not.toHaveBeenCalled();
    expect(t.log.markOverBudget).not.toHaveBeenCalled();
    expect(t.operational.emit).not.toHaveBeenCalled();
    expect(t.logger.error).not.toHaveBeenCalled();
  });

  it('records each delivery that lost its event as skipped, with the reason of its loss', async () => {
    const t = setUp(
      trimmed({
        released: [
          { deliveryId: 'd-evicted', cause: 'over-budget' },
          { deliveryId: 'd-gone', cause: 'gone' },
          { deliveryId: 'd-ended', cause: 'gone' },
        ],
      }),
      new Set(['d-evicted', 'd-gone']),
    );
    await t.retention.enforce(NOW);
    expect(t.records.skipOpen.mock.calls).toEqual([
      [['d-evicted'], NOW, OVER_BUDGET_REASON],
      [['d-gone', 'd-ended'], NOW, GONE_REASON],
    ]);
    // Counted once per delivery it did skip; one that had ended already is not counted.
    expect(t.stats.countDelivery.mock.calls).toEqual([
      ['skipped', NOW],
      ['skipped', NOW],
    ]);
    expect(t.metrics.deliveries.inc.mock.calls).toEqual([
      [{ outcome: 'skipped', status_class: 'none' }, 1],
      [{ outcome: 'skipped', status_class: 'none' }, 1],
    ]);
  });

  it('over the budget: marks it, counts the evicted events and tells the operator once per episode', async () => {
    const t = setUp(
      trimmed({
        evicted: 3,
        removed: 3,
        overBudget: true,
        bytes: 990,
        released: [{ deliveryId: 'd1', cause: 'over-budget' }],
      }),
      new Set(['d1']),
    );
    await t.retention.enforce(NOW);
    expect(t.metrics.eventLogEvicted.inc).toHaveBeenCalledWith(3);
    expect(t.log.markOverBudget).toHaveBeenCalledWith(NOW, 3);
    const since = new Date(NOW - 60_000).toISOString();
    // The id comes from the episode's start, so every worker appends the same one event.
    expect(t.operational.emit).toHaveBeenCalledWith(
      EventType.BridgeEventLogOverBudget,
      `bridge.event_log.over_budget.${NOW - 60_000}`,
      since,
      { since, bytes: 990, budgetBytes: 1_000, evictedEvents: 3, skippedDeliveries: 1 },
    );
    expect(t.logger.error).toHaveBeenCalledTimes(1);
  });

  it('now and then drops the oldest holds whose delivery ended or whose record expired', async () => {
    const t = setUp(
      trimmed(),
      new Set(),
      ['d-pending', 'd-failing', 'd-succeeded', 'd-expired', 'd-skipped'],
      [
        DeliveryStatus.Pending,
        DeliveryStatus.Failing,
        DeliveryStatus.Succeeded,
        undefined,
        DeliveryStatus.Skipped,
      ],
    );
    await t.retention.enforce(NOW);
    expect(t.log.oldestHolds).toHaveBeenCalledWith(100);
    expect(t.log.releaseHolds).toHaveBeenCalledWith(['d-succeeded', 'd-expired', 'd-skipped']);
    // Not on every trim: the next eleven leave the holds alone.
    for (let i = 0; i < 11; i++) {
      await t.retention.enforce(NOW);
    }
    expect(t.log.oldestHolds).toHaveBeenCalledTimes(1);
    await t.retention.enforce(NOW);
    expect(t.log.oldestHolds).toHaveBeenCalledTimes(2);
  });
});
