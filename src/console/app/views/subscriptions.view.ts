import { field, h, notice, replace, table } from '../dom';
import { ago, formatTime, parseCount, splitList } from '../format';
import {
  ORDERINGS,
  type Ordering,
  type Subscription,
  type SubscriptionInput,
  type SubscriptionPatch,
} from '../types';
import { attempt, type View, type ViewContext } from '../view';

/** What the form hands on: a new subscription, or the changes to the one being edited. */
type Submission =
  | { editing?: undefined; create: SubscriptionInput }
  | { editing: Subscription; patch: SubscriptionPatch };

interface Form {
  element: HTMLFormElement;
  fill(s?: Subscription): void;
}

/** The create / edit form. `editing` is the subscription being edited, if any. */
function subscriptionForm(onSubmit: (submission: Submission) => Promise<void>): Form {
  let editing: Subscription | undefined;
  const legend = h('legend', { id: 'sub-form-legend' }, 'New subscription');
  const url = h('input', {
    type: 'url',
    name: 'url',
    required: true,
    maxlength: 2048,
    placeholder: 'https://example.com/webhooks/opentact',
    autocomplete: 'off',
  });
  const types = h('input', { type: 'text', name: 'eventTypes', required: true, value: '*' });
  const description = h('input', { type: 'text', name: 'description', maxlength: 500 });
  const ordering = h(
    'select',
    { name: 'ordering' },
    ...ORDERINGS.map((o) => h('option', { value: o }, o)),
  );
  const rate = h('input', { type: 'number', name: 'rateLimitPerSecond', min: 1, max: 10000 });
  const inFlight = h('input', { type: 'number', name: 'maxInFlight', min: 1, max: 1000 });
  const enabled = h('input', {
    type: 'checkbox',
    id: 'sub-enabled',
    name: 'enabled',
    checked: true,
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create subscription');
  const cancel = h('button', { type: 'button', hidden: true }, 'Cancel edit');
  const outlet = h('div');

  const fill = (s?: Subscription): void => {
    editing = s;
    legend.textContent = s ? `Edit ${s.id}` : 'New subscription';
    submit.textContent = s ? 'Save changes' : 'Create subscription';
    cancel.hidden = !s;
    url.value = s?.url ?? '';
    types.value = s ? s.eventTypes.join(', ') : '*';
    description.value = s?.description ?? '';
    ordering.value = s?.ordering ?? 'none';
    rate.value = s?.rateLimitPerSecond === undefined ? '' : String(s.rateLimitPerSecond);
    inFlight.value = s?.maxInFlight === undefined ? '' : String(s.maxInFlight);
    enabled.checked = s?.enabled ?? true;
    replace(outlet);
  };
  cancel.addEventListener('click', () => fill());

  const element = h(
    'form',
    {
      class: 'card',
      'aria-labelledby': 'sub-form-legend',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const limits = { rate: parseCount(rate.value), inFlight: parseCount(inFlight.value) };
        if (Number.isNaN(limits.rate) || Number.isNaN(limits.inFlight)) {
          replace(outlet, notice('error', 'Limits are whole numbers, or empty for none.'));
          return;
        }
        const fields = {
          url: url.value.trim(),
          eventTypes: splitList(types.value),
          ordering: ordering.value as Ordering,
          enabled: enabled.checked,
        };
        const text = description.value.trim() || undefined;
        // On an edit, an empty field clears the value; on a create it is left out.
        const submission: Submission = editing
          ? {
              editing,
              patch: {
                ...fields,
                description: text ?? null,
                rateLimitPerSecond: limits.rate ?? null,
                maxInFlight: limits.inFlight ?? null,
              },
            }
          : {
              create: {
                ...fields,
                description: text,
                rateLimitPerSecond: limits.rate,
                maxInFlight: limits.inFlight,
              },
            };
        submit.disabled = true;
        void attempt(outlet, () => onSubmit(submission)).finally(() => {
          submit.disabled = false;
        });
      },
    },
    h(
      'fieldset',
      {},
      legend,
      field('Endpoint URL', url),
      field('Event types', types, 'Comma-separated: *, call.*, sms.inbound, opentact.<kind>'),
      field('Description', description),
      h(
        'div',
        { class: 'row' },
        field('Ordering', ordering, 'per-key: one at a time per call, message or order'),
        field('Rate limit (requests/s)', rate, 'Empty: no limit'),
        field('Max in flight', inFlight, 'Empty: no limit'),
      ),
      h('div', { class: 'field check' }, enabled, h('label', { for: 'sub-enabled' }, 'Enabled')),
      h('div', { class: 'actions' }, submit, cancel),
    ),
    outlet,
  );
  return { element, fill };
}

function stateOf(s: Subscription): HTMLElement {
  return h(
    'span',
    {},
    h(
      'span',
      { class: `badge ${s.enabled ? 'badge-open' : 'badge-down'}` },
      s.enabled ? 'enabled' : 'disabled',
    ),
    s.disabledReason ? ` ${s.disabledReason}` : '',
    s.failingSince
      ? h('span', { class: 'warn' }, ` failing since ${formatTime(s.failingSince)}`)
      : '',
    s.pausedUntil ? h('span', { class: 'warn' }, ` paused until ${formatTime(s.pausedUntil)}`) : '',
  );
}

function limitsOf(s: Subscription): string {
  const parts = [
    `ordering ${s.ordering}`,
    s.rateLimitPerSecond === undefined ? 'no rate limit' : `${s.rateLimitPerSecond}/s`,
    s.maxInFlight === undefined ? 'no in-flight cap' : `≤ ${s.maxInFlight} in flight`,
  ];
  return parts.join(', ');
}

export const subscriptionsView: View = (root, ctx: ViewContext) => {
  const outlet = h('div', { 'aria-live': 'polite' });
  const list = h('div', {}, notice('info', 'Loading…'));
  let subscriptions: Subscription[] = [];

  const load = async (): Promise<void> => {
    const all: Subscription[] = [];
    let cursor: string | undefined;
    // Bounded: at most 10 pages of 100.
    for (let page = 0; page < 10; page++) {
      const result = await ctx.api.subscriptions(cursor);
      all.push(...result.data);
      if (!result.nextCursor) {
        break;
      }
      cursor = result.nextCursor;
    }
    subscriptions = all;
    renderList();
  };

  const act = async (label: string, action: () => Promise<HTMLElement | string>): Promise<void> => {
    const done = await attempt(outlet, action);
    if (done !== undefined) {
      replace(outlet, notice('ok', label, ': ', done));
      await attempt(outlet, load);
    }
  };

  const form = subscriptionForm(async (submission) => {
    if (submission.editing) {
      const saved = await ctx.api.updateSubscription(submission.editing.id, submission.patch);
      form.fill();
      replace(outlet, notice('ok', `Saved ${saved.id}.`));
    } else {
      const created = await ctx.api.createSubscription(submission.create);
      form.fill();
      replace(
        outlet,
        notice(
          'ok',
          `Created ${created.id}. Its signing secret (give it to the endpoint's owner): `,
          h('code', { class: 'secret', id: 'new-secret' }, created.secret),
        ),
      );
    }
    await load();
  });

  const renderList = (): void => {
    if (subscriptions.length === 0) {
      replace(list, notice('info', 'No subscriptions yet.'));
      return;
    }
    replace(
      list,
      table(
        'Subscriptions',
        ['Endpoint', 'Event types', 'State', 'Delivery', 'Last success', 'Actions'],
        subscriptions.map((s) => [
          h(
            'span',
            {},
            h('strong', { class: 'wrap' }, s.url),
            h('br'),
            h('small', { class: 'muted' }, s.id),
            s.description ? h('small', {}, ` · ${s.description}`) : '',
          ),
          s.eventTypes.join(', '),
          stateOf(s),
          limitsOf(s),
          s.lastSuccessAt ? ago(s.lastSuccessAt) : '—',
          h(
            'div',
            { class: 'actions' },
            h(
              'button',
              {
                type: 'button',
                onclick: () => {
                  form.fill(s);
                  form.element.scrollIntoView();
                },
              },
              'Edit',
            ),
            h(
              'button',
              {
                type: 'button',
                onclick: () =>
                  void act(s.enabled ? 'Disabled' : 'Enabled', async () => {
                    const saved = await ctx.api.updateSubscription(s.id, { enabled: !s.enabled });
                    return saved.id;
                  }),
              },
              s.enabled ? 'Disable' : 'Enable',
            ),
            h(
              'button',
              {
                type: 'button',
                onclick: () =>
                  void act('Secret rotated', async () => {
                    const rotated = await ctx.api.rotateSecret(s.id);
                    return h(
                      'span',
                      {},
                      h('code', { class: 'secret' }, rotated.secret),
                      ` (the previous secret signs too until ${formatTime(rotated.previousSecretExpiresAt)})`,
                    );
                  }),
              },
              'Rotate secret',
            ),
            h(
              'button',
              {
                type: 'button',
                onclick: () =>
                  void act('Test event sent', async () => {
                    const sent = await ctx.api.sendTest(s.id);
                    return h(
                      'a',
                      {
                        href: `#/deliveries?subscriptionId=${encodeURIComponent(s.id)}&open=${encodeURIComponent(sent.deliveryId)}`,
                      },
                      `delivery ${sent.deliveryId}`,
                    );
                  }),
              },
              'Send test event',
            ),
            h(
              'a',
              { class: 'button', href: `#/deliveries?subscriptionId=${encodeURIComponent(s.id)}` },
              'Deliveries',
            ),
          ),
        ]),
        (i) => ({ 'data-subscription': subscriptions[i]?.id }),
      ),
    );
  };

  replace(root, h('h2', {}, 'Subscriptions'), form.element, outlet, list);
  void attempt(list, load);
  return () => undefined;
};
