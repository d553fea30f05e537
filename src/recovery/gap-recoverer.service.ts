import { Injectable } from '@nestjs/common';
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
import { computeEqualJitterBackoffMs } from '../platform/reconnect-backoff';
import { TokenProvider } from '../platform/token-provider.service';
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
/** Pages read at most per search: 100,000 entities, far beyond a 6 h outage of a busy account. */
const MAX_PAGES = 1_000;

const SEARCHES: readonly EntitySearch[] = [
  EntitySearch.SmsInbound,
  EntitySearch.SmsOutbound,
  EntitySearch.Calls,
];

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
 * Recovers one claimed gap: pages through Opentact's SMS and call searches over the gap plus the
 * margin, paced and retried with backoff, turns each entity state into the event the WSS would
 * have carried, and appends those through the ingestor, whose dedup drops what the WSS (or an
 * earlier recovery) already delivered. The outcome goes to the log, the metrics and the report
 * GET /v1/status shows.
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

  private async recoverSearch(
    search: EntitySearch,
    window: RecoveryWindow,
    gap: ClaimedGap,
    owner: string,
    report: RecoveryReport,
    isRunning: () => boolean,
  ): Promise<void> {
    for (let pageNo = 0, skip = 0; pageNo < MAX_PAGES; pageNo++) {
      const page = await this.fetchPage(search, window, skip, report, isRunning);
      report.entities += page.data.length;
      const events: RecoveredEvent[] = [];
      const receivedAt = new Date();
      for (const entity of page.data) {
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
      skip += page.data.length;
      if (!(await this.state.renew(gap.id, owner, Date.now() + CLAIM_LEASE_MS))) {
        throw new ClaimLostError(`the claim on gap ${gap.id} was taken over`);
      }
      await this.saveReport(report);
      if (page.data.length === 0 || skip >= page.total) {
        return;
      }
    }
  }

  private async fetchPage(
    search: EntitySearch,
    window: RecoveryWindow,
    skip: number,
    report: RecoveryReport,
    isRunning: () => boolean,
  ): Promise<SearchPage> {
    for (let attempt = 1; ; attempt++) {
      if (!isRunning()) {
        throw new RecoveryInterruptedError(
          'stopped while recovering: the process is shutting down',
        );
      }
      await this.pacer.next();
      report.requests++;
      try {
        const { token } = await this.tokens.getToken();
        return await this.rest.search(token, search, {
          modifiedFrom: new Date(window.fromMs),
          modifiedTo: new Date(window.toMs),
          take: MAX_SEARCH_TAKE,
          skip,
        });
      } catch (error) {
        report.errors++;
        report.lastError = error instanceof Error ? error.message : String(error);
        this.metrics.recoveryErrors.inc();
        if (attempt >= MAX_REQUEST_ATTEMPTS) {
          throw new RecoveryFailedError(
            `POST ${search} failed ${attempt} times; last: ${report.lastError}`,
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
  }

  private async saveReport(report: RecoveryReport): Promise<void> {
    try {
      await this.state.saveReport(report);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not save the recovery report');
    }
  }
}
