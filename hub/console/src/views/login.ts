/** Login: POST /api/login; the hub sets the HttpOnly session cookie. */
import { ApiError, api, type User } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';

export function mountLogin(root: HTMLElement, done: (user: User) => void): () => void {
  const username = h('input', { name: 'username', id: 'login-username', autocomplete: 'username', required: true });
  const password = h('input', {
    name: 'password',
    id: 'login-password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const error = h('p', { class: 'error', id: 'login-error', role: 'alert' });
  const form = h(
    'form',
    { class: 'login', id: 'login-form' },
    h('label', {}, t('username'), username),
    h('label', {}, t('password'), password),
    h('button', { type: 'submit', id: 'login-submit' }, t('login')),
    error,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    error.textContent = '';
    api<{ user: User }>('/api/login', { method: 'POST', body: { username: username.value, password: password.value } })
      .then((res) => done(res.user))
      .catch((err: unknown) => {
        error.textContent = err instanceof ApiError && err.status === 401 ? t('loginFailed') : String(err);
      });
  });
  root.append(h('section', { class: 'login-view' }, form));
  username.focus();
  return () => {};
}
