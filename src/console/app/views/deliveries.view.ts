import type { DeliveryFilter } from '../api.client';
import { field, h, notice, replace, table } from '../dom';
import { formatTime, isoToLocalInput, localInputToIso } from '../format';
import { DELIVERY_STATUSES, type Delivery, type Subscription } from '../types';
import { attempt, every, type View, type ViewContext } from '../view';

const REFRESH_MS = 3_000;
const UNFINISHED = new Set(['pending', 'failing']);

function statusBadge(status: string): HTMLElement {
  return h('span', { class: `badge badge-${status}` }, status);
}

function subscriptionOptions(
  subs: Subscription[],
  selected: string | undefined,
  any: string,
): HTMLOptionElement[] {
  return [
    h('option', { value: '' }, any),
    ...subs.map((s) =>
      h('option', { value: s.id, selected: s.id === selected }, `${s.url} (${s.id})`),
    ),
  ];
}

/** One delivery with every attempt: when, how long, the status code, the error, the body. */
function detail(d: Delivery, onRetry: () => void): HTMLElement {
  // Newest first, by time: a manual retry starts a new schedule, numbered from 1 again.
  const attempts = [...(d.attempts ?? [])].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  return h(
    'section',
    {
      class: 'card',
      id: 'delivery-detail',
      'aria-labelledby': 'delivery-detail-title',
      'data-delivery': d.id,
      'data-status': d.status,
    },
    h('h3', { id: 'delivery-detail-title' }, `Delivery ${d.id} `, statusBadge(d.status)),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Event'),
      h('dd', {}, `${d.eventType} · ${d.eventId}`),
      h('dt', {}, 'Subscription'),
      h('dd', {}, d.subscriptionId),
      h('dt', {}, 'Created'),
      h('dd', {}, formatTime(d.createdAt)),
      d.nextAttemptAt && h('dt', {}, 'Next attempt'),
      d.nextAttemptAt && h('dd', {}, formatTime(d.nextAttemptAt)),
    ),
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        { type: 'button', class: 'primary', id: 'retry-delivery', onclick: onRetry },
        'Retry now',
      ),
    ),
    attempts.length === 0
      ? notice('info', 'No attempt yet.')
      : table(
          `Attempts of delivery ${d.id}`,
          ['#', 'At', 'Duration', 'Status', 'Error', 'Response body'],
          attempts.map((a) => [
            a.attempt,
            formatTime(a.at),
            `${a.durationMs} ms`,
            a.statusCode === undefined
              ? '—'
              : h('span', { class: a.statusCode < 300 ? 'ok' : 'bad' }, String(a.statusCode)),
            a.error ?? '',
            a.responseBody === undefined
              ? ''
              : h(
                  'pre',
                  { class: 'body' },
                  a.responseBody + (a.responseTruncated ? '\n… (truncated)' : ''),
                ),
          ]),
          (i) => ({ 'data-attempt': attempts.length - i }),
        ),
  );
}

function replayForm(
  ctx: ViewContext,
  subs: Subscription[],
  selected: string | undefined,
): HTMLElement {
  const sub = h(
    'select',
    { name: 'subscription', required: true },
    ...subscriptionOptions(subs, selected, 'Choose a subscription'),
  );
  const since = h('input', {
    type: 'datetime-local',
    name: 'since',
    required: true,
    value: isoToLocalInput(new Date(Date.now() - 3600_000).toISOString()),
  });
  const until = h('input', { type: 'datetime-local', name: 'until' });
  const scope = h(
    'select',
    { name: 'scope' },
    h('option', { value: 'failed' }, 'Failing and dead deliveries'),
    h('option', { value: 'all' }, 'Every retained event'),
  );
  const outlet = h('div', { 'aria-live': 'polite' });
  return h(
    'details',
    { class: 'card' },
    h('summary', {}, 'Replay a window'),
    h(
      'form',
      {
        'aria-label': 'Replay a window',
        onsubmit: (event: Event) => {
          event.preventDefault();
          const window = {
            since: localInputToIso(since.value) ?? '',
            until: localInputToIso(until.value),
            scope: scope.value as 'failed' | 'all',
          };
          if (sub.value === '' || window.since === '') {
            replace(outlet, notice('error', 'Choose a subscription and the start of the window.'));
            return;
          }
          void attempt(outlet, async () => {
            const result = await ctx.api.replay(sub.value, window);
            replace(
              outlet,
              notice(
                'ok',
                `Replayed ${result.replayed} deliver${result.replayed === 1 ? 'y' : 'ies'}.`,
              ),
            );
          });
        },
      },
      h(
        'div',
        { class: 'row' },
        field('Subscription', sub),
        field('From (your time)', since),
        field('To (your time)', until, 'Empty: now'),
        field('Which', scope),
      ),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Replay')),
      outlet,
    ),
  );
}

export const deliveriesView: View = (root, ctx) => {
  const p = ctx.params;
  const filter: DeliveryFilter = {
    subscriptionId: p.get('subscriptionId') ?? undefined,
    status: p.get('status') ?? undefined,
    eventType: p.get('eventType') ?? undefined,
    since: p.get('since') ?? undefined,
    until: p.get('until') ?? undefined,
  };
  let openId = p.get('open') ?? undefined;
  let rows: Delivery[] = [];
  let cursor: string | undefined;
  let pagesLoaded = 0;

  const outlet = h('div', { 'aria-live': 'polite' });
  const detailBox = h('div');
  const list = h('div', {}, notice('info', 'Loading…'));
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  const filters = h('div');
  const replay = h('div');

  const subSelect = h('select', { name: 'subscriptionId' });
  const statusSelect = h(
    'select',
    { name: 'status' },
    h('option', { value: '' }, 'Any status'),
    ...DELIVERY_STATUSES.map((s) => h('option', { value: s, selected: s === filter.status }, s)),
  );
  const typeInput = h('input', {
    type: 'text',
    name: 'eventType',
    value: filter.eventType ?? '',
    placeholder: 'call.hangup',
  });
  const sinceInput = h('input', {
    type: 'datetime-local',
    name: 'since',
    value: filter.since ? isoToLocalInput(filter.since) : '',
  });
  const untilInput = h('input', {
    type: 'datetime-local',
    name: 'until',
    value: filter.until ? isoToLocalInput(filter.until) : '',
  });

  const renderRows = (): void => {
    if (rows.length === 0) {
      replace(list, notice('info', 'No deliveries match.'));
      return;
    }
    replace(
      list,
      table(
        'Deliveries, newest first',
        ['Created', 'Event type', 'Subscription', 'Status', 'Attempts', 'Last answer', ''],
        rows.map((d) => [
          formatTime(d.createdAt),
          d.eventType,
          h('small', {}, d.subscriptionId),
          statusBadge(d.status),
          d.attemptCount,
          d.lastStatusCode !== undefined ? String(d.lastStatusCode) : (d.lastError ?? ''),
          h(
            'button',
            { type: 'button', 'aria-controls': 'delivery-detail', onclick: () => void open(d.id) },
            'Attempts',
          ),
        ]),
        (i) => ({ 'data-delivery': rows[i]?.id, 'data-status': rows[i]?.status }),
      ),
    );
  };

  const load = async (append: boolean): Promise<void> => {
    const page = await ctx.api.deliveries({ ...filter, cursor: append ? cursor : undefined });
    rows = append ? [...rows, ...page.data] : page.data;
    pagesLoaded = append ? pagesLoaded + 1 : 1;
    cursor = page.nextCursor;
    more.hidden = !cursor;
    renderRows();
  };

  const renderDetail = (d: Delivery): void => {
    replace(
      detailBox,
      detail(d, () => {
        void attempt(outlet, async () => {
          const queued = await ctx.api.retry(d.id);
          replace(outlet, notice('ok', `Delivery ${d.id} queued for another attempt.`));
          if (openId === d.id) {
            renderDetail(queued);
          }
        });
      }),
    );
  };

  const showDetail = async (): Promise<void> => {
    if (!openId) {
      replace(detailBox);
      return;
    }
    const id = openId;
    const d = await ctx.api.delivery(id);
    if (openId !== id) {
      return;
    }
    renderDetail(d);
  };

  const open = async (id: string): Promise<void> => {
    openId = id;
    await attempt(outlet, showDetail);
    detailBox.scrollIntoView({ block: 'nearest' });
  };

  const apply = (event: Event): void => {
    event.preventDefault();
    filter.subscriptionId = subSelect.value || undefined;
    filter.status = statusSelect.value || undefined;
    filter.eventType = typeInput.value.trim() || undefined;
    filter.since = localInputToIso(sinceInput.value);
    filter.until = localInputToIso(untilInput.value);
    const query = new URLSearchParams(
      Object.entries(filter).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
    history.replaceState(
      null,
      '',
      `#/deliveries${query.toString() === '' ? '' : `?${query.toString()}`}`,
    );
    replace(outlet);
    void attempt(list, () => load(false));
  };

  more.addEventListener('click', () => void attempt(outlet, () => load(true)));
  replace(
    filters,
    h(
      'form',
      { role: 'search', 'aria-label': 'Filter deliveries', class: 'card', onsubmit: apply },
      h(
        'div',
        { class: 'row' },
        field('Subscription', subSelect),
        field('Status', statusSelect),
        field('Event type', typeInput),
        field('From (your time)', sinceInput),
        field('To (your time)', untilInput),
      ),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, 'Apply filters'),
      ),
    ),
  );
  replace(root, h('h2', {}, 'Deliveries'), filters, outlet, detailBox, list, more, replay);

  void attempt(outlet, async () => {
    const subs = (await ctx.api.subscriptions()).data;
    replace(subSelect, ...subscriptionOptions(subs, filter.subscriptionId, 'Any subscription'));
    replace(replay, replayForm(ctx, subs, filter.subscriptionId));
  });
  if (openId) {
    void attempt(outlet, showDetail);
  }
  // Refreshes the first page (not one the operator paged on to) and an unfinished delivery.
  return every(REFRESH_MS, async () => {
    if (pagesLoaded <= 1) {
      await attempt(list, () => load(false));
    }
    const shown = detailBox.firstElementChild?.getAttribute('data-status');
    if (openId && shown && UNFINISHED.has(shown)) {
      await attempt(outlet, showDetail);
    }
  });
};
