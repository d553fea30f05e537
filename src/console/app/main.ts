import { ApiClient, ApiError, UnauthorizedError } from './api.client';
import { field, h, notice, replace } from './dom';
import { viewerZone } from './format';
import { forgetKey, storedKey, storeKey } from './session';
import type { View } from './view';
import { deliveriesView } from './views/deliveries.view';
import { liveTailView } from './views/live-tail.view';
import { quarantineView } from './views/quarantine.view';
import { statusView } from './views/status.view';
import { subscriptionsView } from './views/subscriptions.view';

const ROUTES: { path: string; label: string; view: View }[] = [
  { path: 'status', label: 'Status', view: statusView },
  { path: 'subscriptions', label: 'Subscriptions', view: subscriptionsView },
  { path: 'deliveries', label: 'Deliveries', view: deliveriesView },
  { path: 'quarantine', label: 'Quarantine', view: quarantineView },
  { path: 'tail', label: 'Live tail', view: liveTailView },
];

const app = document.getElementById('app') as HTMLElement;
let leaveView: (() => void) | undefined;
let onHashChange: (() => void) | undefined;

function route(): { path: string; params: URLSearchParams } {
  const [path = '', query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  return { path, params: new URLSearchParams(query) };
}

function signOut(message?: string): void {
  forgetKey();
  leaveView?.();
  leaveView = undefined;
  if (onHashChange) {
    window.removeEventListener('hashchange', onHashChange);
    onHashChange = undefined;
  }
  showSignIn(message);
}

function showSignIn(message?: string): void {
  const key = h('input', {
    type: 'password',
    name: 'key',
    required: true,
    autocomplete: 'current-password',
    spellcheck: 'false',
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const outlet = h('div', {}, message ? notice('error', message) : undefined);
  const form = h(
    'form',
    {
      class: 'card signin',
      'aria-labelledby': 'signin-title',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const value = key.value.trim();
        submit.disabled = true;
        // The key is kept only once the API accepts it.
        new ApiClient(value, () => undefined)
          .status()
          .then(() => {
            storeKey(value);
            showConsole(value);
          })
          .catch((error: unknown) => {
            const text =
              error instanceof UnauthorizedError
                ? `That key was refused: ${error.message}.`
                : error instanceof ApiError
                  ? `The API answered ${error.status}: ${error.message}`
                  : 'The bridge could not be reached.';
            replace(outlet, notice('error', text));
            key.select();
          })
          .finally(() => {
            submit.disabled = false;
          });
      },
    },
    h('h1', { id: 'signin-title' }, 'opentact-bridge console'),
    h('p', {}, 'Sign in with the service’s admin API key. It is kept in this tab only.'),
    field('Admin API key', key),
    h('div', { class: 'actions' }, submit),
    outlet,
  );
  replace(app, h('main', { class: 'narrow' }, form));
  key.focus();
}

function showConsole(key: string): void {
  const api = new ApiClient(key, (message) =>
    signOut(`Signed out: the admin API refused the key (${message}).`),
  );
  const links = ROUTES.map((r) => h('a', { href: `#/${r.path}`, 'data-route': r.path }, r.label));
  const main = h('main', { id: 'view', tabindex: '-1' });
  const signOutButton = h('button', { type: 'button', class: 'link' }, 'Sign out');
  signOutButton.addEventListener('click', () => signOut());

  const render = (): void => {
    const { path, params } = route();
    const current = ROUTES.find((r) => r.path === path);
    if (!current) {
      location.hash = '#/status';
      return;
    }
    for (const link of links) {
      if (link.dataset.route === current.path) {
        link.setAttribute('aria-current', 'page');
      } else {
        link.removeAttribute('aria-current');
      }
    }
    leaveView?.();
    document.title = `${current.label} · opentact-bridge console`;
    leaveView = current.view(main, {
      api,
      key,
      params,
      navigate: (hash) => {
        location.hash = hash;
      },
      signOut,
    });
  };

  replace(
    app,
    h(
      'header',
      { class: 'top' },
      h('span', { class: 'brand' }, 'opentact-bridge'),
      h('nav', { 'aria-label': 'Views' }, ...links),
      signOutButton,
    ),
    main,
    h('footer', { class: 'muted' }, `Times are shown in your time zone, ${viewerZone()}.`),
  );
  onHashChange = render;
  window.addEventListener('hashchange', render);
  render();
}

const key = storedKey();
if (key) {
  showConsole(key);
} else {
  showSignIn();
}
