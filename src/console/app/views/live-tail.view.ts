import { field, h, replace } from '../dom';
import { formatTime, splitList, summarizeData } from '../format';
import { LiveStream } from '../live-stream';
import type { StreamEvent } from '../types';
import type { View } from '../view';

/** Rows kept on screen, and events held while paused: both bounded. */
const MAX_SHOWN = 200;
const MAX_HELD = 1_000;

function row(event: StreamEvent): HTMLLIElement {
  return h(
    'li',
    { 'data-event': event.id, 'data-type': event.type },
    h(
      'details',
      {},
      h(
        'summary',
        {},
        h('time', { datetime: event.receivedAt }, formatTime(event.receivedAt)),
        ' ',
        h('strong', {}, event.type),
        ' ',
        h('span', { class: 'muted' }, summarizeData(event.data ?? {})),
      ),
      h('pre', { class: 'body' }, JSON.stringify(event, null, 2)),
    ),
  );
}

export const liveTailView: View = (root, ctx) => {
  let stream: LiveStream | undefined;
  let paused = false;
  let held: StreamEvent[] = [];
  let dropped = 0;
  let streamState = 'connecting…';

  const state = h('p', { role: 'status', id: 'tail-state' });
  const list = h('ol', { class: 'tail', id: 'tail', 'aria-label': 'Events, newest first' });
  const types = h('input', { type: 'text', name: 'types', value: ctx.params.get('types') ?? '*' });
  const pause = h('button', { type: 'button', 'aria-pressed': 'false', id: 'tail-pause' }, 'Pause');
  const clear = h('button', { type: 'button' }, 'Clear');

  const showState = (): void => {
    state.textContent = paused
      ? `Paused: ${held.length} event${held.length === 1 ? '' : 's'} held${dropped > 0 ? `, ${dropped} older dropped` : ''} (stream ${streamState})`
      : `Stream ${streamState}`;
  };

  const show = (event: StreamEvent): void => {
    list.prepend(row(event));
    while (list.childElementCount > MAX_SHOWN) {
      list.lastElementChild?.remove();
    }
  };

  const connect = (): void => {
    stream?.stop();
    const patterns = splitList(types.value);
    stream = new LiveStream(ctx.key, patterns.length === 0 ? '*' : patterns.join(','), {
      onEvent: (event) => {
        if (paused) {
          held.push(event);
          if (held.length > MAX_HELD) {
            held.shift();
            dropped += 1;
          }
        } else {
          show(event);
        }
        showState();
      },
      onState: (s) => {
        streamState = s;
        showState();
      },
      onUnauthorized: () => ctx.signOut('Signed out: the stream refused the key.'),
    });
    stream.start();
  };

  pause.addEventListener('click', () => {
    paused = !paused;
    pause.setAttribute('aria-pressed', String(paused));
    pause.textContent = paused ? 'Resume' : 'Pause';
    if (!paused) {
      held.forEach(show);
      held = [];
      dropped = 0;
    }
    showState();
  });
  clear.addEventListener('click', () => replace(list));

  replace(
    root,
    h('h2', {}, 'Live tail'),
    h(
      'form',
      {
        class: 'card',
        'aria-label': 'Live tail filter',
        onsubmit: (event: Event) => {
          event.preventDefault();
          replace(list);
          connect();
        },
      },
      h(
        'div',
        { class: 'row' },
        field('Event types', types, 'Comma-separated patterns: *, call.*, sms.inbound'),
      ),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, 'Apply'),
        pause,
        clear,
      ),
    ),
    state,
    list,
  );
  connect();
  return () => stream?.stop();
};
