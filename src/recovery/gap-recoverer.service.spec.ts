import type { Logger } from 'pino';
import type { AppConfig } from '../config/app-config';
import type { EventNormalizer } from '../events/event-normalizer.service';
import type { EventIngestor } from '../ingest/event-ingestor.service';
import type { MetricsService } from '../metrics/metrics.service';
import {
  EntitySearch,
  type OpentactRestClient,
  type SearchPage,
} from '../platform/opentact-rest.client';
import type { TokenProvider } from '../platform/token-provider.service';
import {
  GapRecoverer,
  MAX_REQUEST_ATTEMPTS,
  RecoveryFailedError,
  RecoveryInterruptedError,
} from './gap-recoverer.service';
import type {
  ClaimedGap,
  RecoveryReport,
  RecoveryStateRepository,
} from './recovery-state.repository';

const GAP: ClaimedGap = {
  id: 'gap-1',
  fromMs: Date.parse('2026-11-30T10:00:00Z'),
  toMs: Date.parse('2026-11-30T10:05:00Z'),
  truncated: false,
  resumed: false,
};

function recordingLogger(): { logger: Logger; lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const logger = {
    child: () => logger,
    ...Object.fromEntries(
      ['info', 'warn', 'error'].map((level) => [
        level,
        (_fields: unknown, msg: string) => lines.push({ level, msg }),
      ]),
    ),
  };
  return { logger: logger as unknown as Logger, lines };
}

function build(search: (kind: EntitySearch) => Promise<SearchPage>) {
  const reports: RecoveryReport[] = [];
  const state = {
    saveReport: jest.fn((report: RecoveryReport) => {
      reports.push({ ...report });
      return Promise.resolve();
    }),
    renew: jest.fn(() => Promise.resolve(true)),
    finish: jest.fn(() => Promise.resolve()),
  };
  const counter = { inc: jest.fn() };
  const { logger, lines } = recordingLogger();
  const recoverer = new GapRecoverer(
    {
      recovery: { maxWindowMs: 3_600_000, marginMs: 30_000, requestsPerSecond: 1_000 },
    } as AppConfig,
    {
      search: jest.fn((_token: string, kind: EntitySearch) => search(kind)),
    } as unknown as OpentactRestClient,
    { getToken: () => Promise.resolve({ token: 'jwt' }) } as unknown as TokenProvider,
    {} as EventNormalizer,
    { appendRecovered: jest.fn(() => Promise.resolve([])) } as unknown as EventIngestor,
    state as unknown as RecoveryStateRepository,
    { recoveryEvents: counter, recoveryErrors: counter } as unknown as MetricsService,
    logger,
  );
  return { recoverer, state, reports, lines };
}

const EMPTY: SearchPage = { total: 0, data: [] };

describe('GapRecoverer', () => {
  afterEach(() => jest.useRealTimers());

  it('finishes a gap whose searches find nothing, and reports it done', async () => {
    const { recoverer, state, reports, lines } = build(() => Promise.resolve(EMPTY));
    const report = await recoverer.recover(GAP, 'me');
    expect(report).toMatchObject({ state: 'done', requests: 3, entities: 0, errors: 0 });
    expect(state.finish).toHaveBeenCalledWith('gap-1');
    expect(reports.at(-1)?.state).toBe('done');
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('stops at shutdown as interrupted, not failed: logged at info, the gap left claimable', async () => {
    let running = true;
    const { recoverer, state, reports, lines } = build((kind) => {
      // The process starts shutting down while the first search is in flight.
      if (kind === EntitySearch.SmsInbound) {
        running = false;
      }
      return Promise.resolve(EMPTY);
    });
    await expect(recoverer.recover(GAP, 'me', () => running)).rejects.toBeInstanceOf(
      RecoveryInterruptedError,
    );
    expect(state.finish).not.toHaveBeenCalled();
    expect(reports.at(-1)).toMatchObject({ state: 'interrupted', requests: 1 });
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(lines.some((l) => l.level === 'info' && l.msg.includes('interrupted'))).toBe(true);
  });

  it(`fails after ${MAX_REQUEST_ATTEMPTS} failed attempts at one page, logged as an error`, async () => {
    jest.useFakeTimers();
    const { recoverer, state, reports, lines } = build(() => Promise.reject(new Error('HTTP 503')));
    const outcome = recoverer.recover(GAP, 'me').catch((error: unknown) => error);
    await jest.advanceTimersByTimeAsync(120_000);
    const error = await outcome;
    expect(error).toBeInstanceOf(RecoveryFailedError);
    expect((error as Error).message).toContain('HTTP 503');
    expect(state.finish).not.toHaveBeenCalled();
    expect(reports.at(-1)).toMatchObject({
      state: 'failed',
      requests: MAX_REQUEST_ATTEMPTS,
      errors: MAX_REQUEST_ATTEMPTS,
    });
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
  });
});
