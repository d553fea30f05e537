import {
  type HistoryFilters,
  type HistorySearch,
  SEARCH_FILTERS,
  type TimeRange,
} from './entity-history';
import { SimulatorHttpError } from './http-json';

/**
 * Reads a search request as reference §7.1 describes it: `take` (1-100) and `skip` in the query;
 * in the body `created_on_from` / `_to` and `modified_on_from` / `_to` (ISO) and the equality
 * filters of the search (SMS: `from`, `to`, `thread`, `state`, `delivered`, `readed`, `tn`,
 * `reference_id`; calls: `tn`, `from`, `to`, `state`, `sip_control_app`). A bad value is a 400.
 */

export const SEARCH_PATHS: ReadonlyMap<string, HistorySearch> = new Map([
  ['/rest/sms/search/inbound', 'sms-inbound'],
  ['/rest/sms/search/outbound', 'sms-outbound'],
  ['/rest/sip/app/call/search', 'calls'],
]);

export interface SearchPage {
  take: number;
  skip: number;
}

export function searchPage(url: URL): SearchPage {
  const take = Number(url.searchParams.get('take') ?? '10');
  const skip = Number(url.searchParams.get('skip') ?? '0');
  if (!Number.isInteger(take) || take < 1 || take > 100) {
    throw new SimulatorHttpError(400, 'take must be an integer from 1 to 100');
  }
  if (!Number.isInteger(skip) || skip < 0) {
    throw new SimulatorHttpError(400, 'skip must be a non-negative integer');
  }
  return { take, skip };
}

/** An ISO bound of a search body, as epoch ms; absent or null means unbounded. */
function searchBound(filters: Record<string, unknown>, name: string): number | undefined {
  const value = filters[name];
  if (value === undefined || value === null) {
    return undefined;
  }
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) {
    throw new SimulatorHttpError(400, `${name} must be an ISO date`);
  }
  return ms;
}

function searchRange(filters: Record<string, unknown>, field: string): TimeRange {
  return {
    fromMs: searchBound(filters, `${field}_from`),
    toMs: searchBound(filters, `${field}_to`),
  };
}

/** The body of a search as filters; a filter of the wrong JSON type is a 400, not ignored. */
export function searchFilters(
  search: HistorySearch,
  body: Record<string, unknown>,
): HistoryFilters {
  const equals: Record<string, string | boolean> = {};
  for (const key of SEARCH_FILTERS[search]) {
    const value = body[key];
    if (value === undefined || value === null) {
      continue;
    }
    const flag = key === 'delivered' || key === 'readed';
    if (flag && typeof value === 'boolean') {
      equals[key] = value;
    } else if (!flag && (typeof value === 'string' || typeof value === 'number')) {
      equals[key] = String(value);
    } else {
      throw new SimulatorHttpError(400, `${key} must be a ${flag ? 'boolean' : 'string'}`);
    }
  }
  return {
    created: searchRange(body, 'created_on'),
    modified: searchRange(body, 'modified_on'),
    equals,
  };
}
