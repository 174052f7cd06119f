/** Sign-in: paste an API key; it is checked with GET /v1/me and kept in localStorage. */
import { connect } from '../api.js';
import { errorBox, field, fill, h } from '../dom.js';
import { storeKey } from '../session.js';

export function signInView(root: HTMLElement, onSignedIn: () => void): void {
  const key = h('input', { id: 'api-key', type: 'password', autocomplete: 'off', placeholder: 'ty_…', required: true, size: 50 });
  const message = h('div', {});
  const form = h('form', { id: 'sign-in', class: 'card narrow' },
    h('h2', {}, 'Sign in'),
    h('p', { class: 'muted' }, 'Paste an API key (printed at the first start, or made with ', h('code', {}, 'npm run keys -- create --tenant <name>'), '). It stays in this browser.'),
    field('API key', key),
    h('button', { type: 'submit' }, 'Sign in'),
    message);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = key.value.trim();
    try {
      await connect(value).me();
      storeKey(value);
      onSignedIn();
    } catch (error) {
      fill(message, errorBox(error));
    }
  });
  fill(root, form);
  key.focus();
}
