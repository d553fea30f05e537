import { Injectable, Optional } from '@nestjs/common';
import type { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { EventNormalizer } from '../events/event-normalizer.service';
import { EventIngestor } from '../ingest/event-ingestor.service';
import { InjectLogger } from '../logging/logging.module';
import { eventTypeLabel } from '../metrics/label-values';
import { MetricsService } from '../metrics/metrics.service';
import {
  EntitySearch,
  MAX_SEARCH_TAKE,
  OpentactRestClient,
  type SearchPage,
} from '../platform/opentact-rest.client';
import { OpentactRequestError } from '../platform/opentact-errors';
import { computeEqualJitterBackoffMs } from '../platform/reconnect-backoff';
import { TokenProvider } from '../platform/token-provider.service';
import { Clock, SystemClock } from '../common/clock';
import {
  recoverCall,
  recoverSms,
  type RecoveredEvent,
  type RecoveryWindow,
} from './recovered-events';
import {
  type ClaimedGap,
  type RecoveryReport,
  RecoveryStateRepository,
} from './recovery-state.repository';
import { RequestPacer } from './request-pacer';

/** Attempts per search page before the gap is given up for now (it is claimed again later). */
export const MAX_REQUEST_ATTEMPTS = 6;
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 30_000;
/** A claim's lease: renewed after every page, taken over by another process once it lapses. */
export const CLAIM_LEASE_MS = 60_000;
/** Requests at most per search: over 100,000 entities, far beyond a 6 h outage of a busy account. */
export const MAX_SEARCH_REQUESTS = 2_000;
/**
 * How much consecutive windows overlap: the reference does not say whether `modified_on_from` /
 * `_to` are inclusive, nor how precise Opentact's timestamps are, so each window starts a
 * millisecond before the last one ended. What both return is read once (see seenKey).
 */
const WINDOW_OVERLAP_MS = 1;
/** A window this narrow is not split further: more than a page within it is paged with skip. */
const NARROWEST_WINDOW_MS = 2 * WINDOW_OVERLAP_MS;

const SEARCHES: readonly EntitySearch[] = [
  EntitySearch.SmsInbound,
  EntitySearch.SmsOutbound,
  EntitySearch.Calls,
];

/** One search request's filters (epoch ms): `modified_on` within [from, to], `created_on` by createdTo. */
interface SearchBounds {
  fromMs: number;
  toMs: number;
  createdToMs: number;
}

export class ClaimLostError extends Error {
  readonly code = 'RECOVERY_CLAIM_LOST';
}

/** Why a gap could not be recovered this time (after the retries). */
export class RecoveryFailedError extends Error {
  readonly code = 'RECOVERY_FAILED';
}

/** The process is shutting down: the gap stays claimable and the next process resumes it. */
export class RecoveryInterruptedError extends Error {
  readonly code = 'RECOVERY_INTERRUPTED';
}

/**
 * Recovers one claimed gap: reads Opentact's SMS and call searches from the gap's start (less the
 * margin) up to the moment of the query, paced and retried with backoff (a 401 logs in again),
 * turns each entity state with a moment within the gap into the event the WSS would have
 * carried, and appends those through the ingestor, whose dedup drops what the WSS (or an earlier
 * recovery) already delivered. The outcome goes to the log, the metrics and the report GET
 * /v1/status shows.
 */
@Injectable()
export class GapRecoverer {
  private readonly logger: Logger;
  private readonly pacer: RequestPacer;

  constructor(
    private readonly config: AppConfig,
    private readonly rest: OpentactRestClient,
    private readonly tokens: TokenProvider,
    private readonly normalizer: EventNormalizer,
    private readonly ingestor: EventIngestor,
    private readonly state: RecoveryStateRepository,
    private readonly metrics: MetricsService,
    @InjectLogger() logger: Logger,
    @Optional() private readonly clock: Clock = new SystemClock(),
  ) {
    this.logger = logger.child({ component: 'recovery' });
    this.pacer = new RequestPacer(config.recovery.requestsPerSecond);
  }

  /** Resolves with the report once the gap is recovered; rejects if it could not be (it stays claimable). */
  async recover(
    gap: ClaimedGap,
    owner: string,
    isRunning: () => boolean = () => true,
  ): Promise<RecoveryReport> {
    const margin = this.config.recovery.marginMs;
    const window: RecoveryWindow = { fromMs: gap.fromMs - margin, toMs: gap.toMs + margin };
    const report: RecoveryReport = {
      gapFrom: new Date(gap.fromMs).toISOString(),
      gapTo: new Date(gap.toMs).toISOString(),
      gapSeconds: Math.round((gap.toMs - gap.fromMs) / 100) / 10,
      truncated: gap.truncated,
      state: 'recovering',
      entities: 0,
      recovered: 0,
      duplicates: 0,
      requests: 0,
      errors: 0,
      startedAt: new Date().toISOString(),
      instance: owner,
    };
    const log = this.logger.child({ gapId: gap.id });
    log.info(
      {
        gapFrom: report.gapFrom,
        gapTo: report.gapTo,
        gapSeconds: report.gapSeconds,
        truncated: gap.truncated,
        resumed: gap.resumed,
      },
      'recovering what the Opentact socket missed',
    );
    await this.saveReport(report);
    const started = Date.now();
    try {
      for (const search of SEARCHES) {
        await this.recoverSearch(search, window, gap, owner, report, isRunning);
      }
    } catch (error) {
      const interrupted = error instanceof RecoveryInterruptedError;
      report.state = interrupted ? 'interrupted' : 'failed';
      report.lastError = error instanceof Error ? error.message : String(error);
      report.finishedAt = new Date().toISOString();
      await this.saveReport(report);
      if (interrupted) {
        log.info(
          { recovered: report.recovered, entities: report.entities },
          'gap recovery interrupted by shutdown; the gap stays claimable and is resumed',
        );
        throw error;
      }
      log.error(
        { err: { message: report.lastError }, recovered: report.recovered, errors: report.errors },
        'gap recovery stopped; the gap stays claimable and is retried',
      );
      throw error;
    }
    report.state = 'done';
    report.finishedAt = new Date().toISOString();
    await this.state.finish(gap.id);
    await this.saveReport(report);
    log.info(
      {
        entities: report.entities,
        recovered: report.recovered,
        duplicates: report.duplicates,
        requests: report.requests,
        errors: report.errors,
        durationMs: Date.now() - started,
      },
      'gap recovered',
    );
    return report;
  }

  /**
   * Reads one search over the window's start up to the moment of the query, in windows of
   * `modified_on` small enough that one page holds each. A page is one answer, so a window read in
   * one page misses nothing that was in it; an entity that changes while the rest is read gets a
   * later `modified_on`, so it moves into a window not read yet (the last one always reaches the
   * moment it is asked, plus the margin for a clock ahead of ours) and is read there. This holds in
   * whatever order Opentact returns a page, which the reference does not document. A window with
   * more than a page is split by the share of its total one page holds; a window too narrow to
   * split is paged with `skip` (see pageMoment).
   */
  private async recoverSearch(
    search: EntitySearch,
    window: RecoveryWindow,
    gap: ClaimedGap,
    owner: string,
    report: RecoveryReport,
    isRunning: () => boolean,
  ): Promise<void> {
    const seen = new Set<string>();
    const requests = { count: 0 };
    let fromMs = window.fromMs;
    let spanMs = Number.POSITIVE_INFINITY;
    for (;;) {
      const { page, request, reachesNow } = await this.fetchPage(
        search,
        (nowMs) => {
          const untilMs = nowMs + this.config.recovery.marginMs;
          const toMs = Math.min(untilMs, fromMs + spanMs);
          return {
            fromMs,
            toMs: Math.max(fromMs, toMs),
            // Created after the window, an entity has no state within it: live traffic while
            // recovering is not read.
            createdToMs: window.toMs,
            reachesNow: toMs >= untilMs,
          };
        },
        0,
        report,
        isRunning,
        requests,
      );
      await this.takePage(search, page, window, seen, gap, owner, report);
      const widthMs = request.toMs - request.fromMs;
      if (page.total > page.data.length) {
        if (widthMs > NARROWEST_WINDOW_MS) {
          const share = Math.max(1, page.data.length) / page.total;
          spanMs = Math.max(NARROWEST_WINDOW_MS, Math.floor((widthMs * share) / 2));
          continue;
        }
        await this.pageMoment(
          search,
          request,
          page,
          window,
          seen,
          gap,
          owner,
          report,
          isRunning,
          requests,
        );
      }
      if (reachesNow) {
        return;
      }
      fromMs = request.toMs - WINDOW_OVERLAP_MS;
      spanMs = Math.max(NARROWEST_WINDOW_MS, widthMs * 2);
    }
  }

  /**
   * More than a page changed within a window too narrow to split (a bulk change): paged with
   * `skip`. Entities only leave such a window while it is read (a change moves `modified_on` past
   * it), so when `total` falls by n the next page starts n earlier: whatever the order, nothing
   * moves past the point read to.
   */
  private async pageMoment(
    search: EntitySearch,
    bounds: SearchBounds,
    first: SearchPage,
    window: RecoveryWindow,
    seen: Set<string>,
    gap: ClaimedGap,
    owner: string,
    report: RecoveryReport,
    isRunning: () => boolean,
    requests: { count: number },
  ): Promise<void> {
    let total = first.total;
    let skip = first.data.length;
    while (skip < total) {
      const { page } = await this.fetchPage(
        search,
        () => ({ ...bounds, reachesNow: false }),
        skip,
        report,
        isRunning,
        requests,
      );
      await this.takePage(search, page, window, seen, gap, owner, report);
      if (page.data.length === 0 && page.total >= total) {
        return;
      }
      skip = Math.max(0, skip - Math.max(0, total - page.total)) + page.data.length;
      total = page.total;
    }
  }

  /** Appends the events of a page's entity states not read before, and renews the claim. */
  private async takePage(
    search: EntitySearch,
    page: SearchPage,
    window: RecoveryWindow,
    seen: Set<string>,
    gap: ClaimedGap,
    owner: string,
    report: RecoveryReport,
  ): Promise<void> {
    const events: RecoveredEvent[] = [];
    const receivedAt = this.clock.now();
    for (const entity of page.data) {
      const key = seenKey(entity);
      if (key !== undefined) {
        if (seen.has(key)) {
          continue;
        }
        seen.add(key);
      }
      // Entity states read, each once however many windows returned it.
      report.entities++;
      events.push(
        ...(search === EntitySearch.Calls
          ? recoverCall(this.normalizer, entity, window, receivedAt)
          : recoverSms(
              this.normalizer,
              entity,
              search === EntitySearch.SmsInbound ? 'inbound' : 'outbound',
              window,
              receivedAt,
            )),
      );
    }
    // Oldest first, so per-key ordering sees the states in the order they happened.
    events.sort((a, b) => a.event.occurredAt.localeCompare(b.event.occurredAt));
    const entryIds = await this.ingestor.appendRecovered(events);
    entryIds.forEach((entryId, i) => {
      const outcome = entryId === undefined ? 'duplicate' : 'appended';
      if (entryId === undefined) {
        report.duplicates++;
      } else {
        report.recovered++;
      }
      this.metrics.recoveryEvents.inc({
        event_type: eventTypeLabel(events[i].event.type),
        outcome,
      });
    });
    if (!(await this.state.renew(gap.id, owner, Date.now() + CLAIM_LEASE_MS))) {
      throw new ClaimLostError(`the claim on gap ${gap.id} was taken over`);
    }
    await this.saveReport(report);
  }

  /**
   * One page, paced and retried with backoff. The bounds are computed when the request is sent
   * (after the pacer, after a backoff), so a window that reaches now reaches the moment it is
   * asked. A 401 logs in again and retries at once; a configured token, which cannot be renewed,
   * is said to be refused and retried with backoff like any other failure.
   */
  private async fetchPage(
    search: EntitySearch,
    bounds: (nowMs: number) => SearchBounds & { reachesNow: boolean },
    skip: number,
    report: RecoveryReport,
    isRunning: () => boolean,
    requests: { count: number },
  ): Promise<{ page: SearchPage; request: SearchBounds; reachesNow: boolean }> {
    /** The next attempt logs in again first; at once after the first 401, with backoff after more. */
    let fresh = false;
    let loggedInAgain = false;
    for (let attempt = 1; ; attempt++) {
      if (!isRunning()) {
        throw new RecoveryInterruptedError(
          'stopped while recovering: the process is shutting down',
        );
      }
      if (++requests.count > MAX_SEARCH_REQUESTS) {
        throw new RecoveryFailedError(
          `POST ${search} needed more than ${MAX_SEARCH_REQUESTS} requests for one gap`,
        );
      }
      await this.pacer.next();
      report.requests++;
      let unauthorized = false;
      try {
        const { token } = await this.tokens.getToken(fresh ? { fresh: true } : {});
        fresh = false;
        const { reachesNow, ...request } = bounds(this.clock.now().getTime());
        const { fromMs, toMs, createdToMs } = request;
        const page = await this.rest.search(token, search, {
          modifiedFrom: new Date(fromMs),
          modifiedTo: new Date(toMs),
          createdTo: new Date(createdToMs),
          take: MAX_SEARCH_TAKE,
          skip,
        });
        return { page, request, reachesNow };
      } catch (error) {
        report.errors++;
        report.lastError = error instanceof Error ? error.message : String(error);
        this.metrics.recoveryErrors.inc();
        unauthorized = error instanceof OpentactRequestError && error.status === 401;
        if (unauthorized && !this.tokens.canRefresh) {
          report.lastError = `${report.lastError} (the configured OPENTACT_TOKEN was refused; it cannot be renewed without OPENTACT_EMAIL and OPENTACT_PASSWORD: configure a valid token or a login)`;
        }
      }
      if (attempt >= MAX_REQUEST_ATTEMPTS) {
        throw new RecoveryFailedError(
          `POST ${search} failed ${attempt} times; last: ${report.lastError}`,
        );
      }
      if (unauthorized && this.tokens.canRefresh) {
        // The token lapsed or was revoked before its `exp` (reference §1.3: integration code logs
        // in again on a 401): a new login, and the request again at once the first time.
        fresh = true;
        this.logger.warn(
          { err: { message: report.lastError }, search, skip, attempt },
          'Opentact refused the token for a search (HTTP 401); logging in again',
        );
        if (!loggedInAgain) {
          loggedInAgain = true;
          continue;
        }
      }
      if (unauthorized && !this.tokens.canRefresh) {
        this.logger.warn(
          { search, skip, attempt },
          'Opentact refused the configured OPENTACT_TOKEN for a search (HTTP 401); it cannot be renewed without OPENTACT_EMAIL and OPENTACT_PASSWORD, retrying with the same token',
        );
      }
      const delay = computeEqualJitterBackoffMs(attempt - 1, {
        baseMs: RETRY_BASE_MS,
        maxMs: RETRY_MAX_MS,
      });
      this.logger.warn(
        {
          err: { message: report.lastError },
          search,
          skip,
          attempt,
          retryInMs: Math.round(delay),
        },
        'Opentact search failed while recovering; retrying',
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  private async saveReport(report: RecoveryReport): Promise<void> {
    try {
      await this.state.saveReport(report);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not save the recovery report');
    }
  }
}

/** One state of one entity: its id and `modified_on`; undefined when it has no id. */
function seenKey(entity: Record<string, unknown>): string | undefined {
  return typeof entity.uuid === 'string'
    ? `${entity.uuid} ${String(entity.modified_on)}`
    : undefined;
}
