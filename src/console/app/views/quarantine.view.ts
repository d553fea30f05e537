import { h, notice, replace, table } from '../dom';
import { describeRaw, formatTime } from '../format';
import type { QuarantinedFrame } from '../types';
import { attempt, type View } from '../view';

const PAGE = 25;

function raw(frame: QuarantinedFrame): HTMLElement {
  const view = describeRaw(frame.rawBase64);
  const size = `${frame.size} bytes${frame.truncated ? ', truncated' : ''}${frame.binary ? ', binary frame' : ''}`;
  return h(
    'details',
    {},
    h('summary', {}, `Raw bytes (${size}${view.kind === 'hex' ? ', hex' : ''})`),
    h('pre', { class: 'body' }, view.text),
  );
}

export const quarantineView: View = (root, ctx) => {
  let offset = 0;
  const summary = h('div');
  const list = h('div', {}, notice('info', 'Loading…'));
  const prev = h('button', { type: 'button', disabled: true }, 'Newer');
  const next = h('button', { type: 'button', disabled: true }, 'Older');

  const load = async (): Promise<void> => {
    const page = await ctx.api.quarantine(offset, PAGE);
    const counts = Object.entries(page.countsByReason)
      .map(([reason, n]) => `${reason}: ${n}`)
      .join(' · ');
    replace(
      summary,
      h(
        'p',
        {},
        `${page.total} quarantined frame${page.total === 1 ? '' : 's'}`,
        counts ? ` (${counts})` : '',
      ),
    );
    prev.disabled = offset === 0;
    next.disabled = offset + page.items.length >= page.total;
    if (page.items.length === 0) {
      replace(list, notice('info', 'Nothing quarantined: every frame was understood.'));
      return;
    }
    replace(
      list,
      table(
        'Quarantined frames, newest first',
        ['Time', 'Reason', 'Detail', 'Raw'],
        page.items.map((f) => [
          formatTime(f.at),
          h('span', { class: 'badge' }, f.reason),
          f.detail,
          raw(f),
        ]),
        (i) => ({ 'data-frame': page.items[i]?.id }),
      ),
    );
  };

  prev.addEventListener('click', () => {
    offset = Math.max(0, offset - PAGE);
    void attempt(list, load);
  });
  next.addEventListener('click', () => {
    offset += PAGE;
    void attempt(list, load);
  });
  replace(
    root,
    h('h2', {}, 'Quarantine'),
    h('p', { class: 'muted' }, 'Frames the bridge could not read, kept with their raw bytes.'),
    summary,
    list,
    h('nav', { class: 'actions', 'aria-label': 'Quarantine pages' }, prev, next),
  );
  void attempt(list, load);
  return () => undefined;
};
