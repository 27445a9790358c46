// Logging in: an API token (`hostline tokens create`) or the admin token becomes a session
// cookie; the token itself is not kept by the page.
import {login} from './api.js';
import {h} from './dom.js';

export function renderLogin(main, onLoggedIn) {
  const token = h('input', {type: 'password', id: 'token', name: 'token', autocomplete: 'off',
    required: true, placeholder: 'hlt_…', 'aria-label': 'API token'});
  const message = h('p', {class: 'notice notice-error', role: 'alert', hidden: true});
  const button = h('button', {type: 'submit'}, 'Log in');
  const form = h('form', {class: 'login', id: 'login-form'},
    h('h1', {}, 'Hostline'),
    h('p', {class: 'muted'}, 'Log in with an API token (', h('code', {}, 'hostline tokens create'),
      ') or the controller\'s admin token.'),
    h('label', {for: 'token'}, 'Token'), token, button, message);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    message.hidden = true;
    try {
      await login(token.value.trim());
      token.value = '';
      onLoggedIn();
    } catch (error) {
      message.textContent = error.message;
      message.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  main.append(form);
  token.focus();
}
