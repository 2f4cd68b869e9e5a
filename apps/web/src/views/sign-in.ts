/** Sign in with an API key; the key is checked against the API before it is kept. */
import { ApiClient, ApiRequestError } from '../api-client';
import { h, setText } from '../dom';

export function signInView(onSignedIn: (api: ApiClient) => void, notice = ''): HTMLElement {
  const input = h('input', {
    type: 'password',
    id: 'api-key',
    name: 'api-key',
    autocomplete: 'off',
    required: true,
    spellcheck: 'false',
    'aria-describedby': 'sign-in-help sign-in-error',
  });
  const error = h('p', { id: 'sign-in-error', class: 'message error', role: 'alert' }, notice);
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    {
      class: 'sign-in',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const key = input.value.trim();
        if (!key) return;
        button.disabled = true;
        setText(error, '');
        const api = new ApiClient(key);
        try {
          await api.listStudies({ limit: 1 });
          onSignedIn(api);
        } catch (e) {
          const wrongKey = e instanceof ApiRequestError && (e.status === 401 || e.status === 403);
          setText(
            error,
            wrongKey
              ? 'This API key was not accepted. Check that it was copied completely and has not been revoked.'
              : `Could not sign in: ${e instanceof Error ? e.message : String(e)}`,
          );
          input.focus();
          input.select();
        } finally {
          button.disabled = false;
        }
      },
    },
    h('h1', {}, 'X-ray body part classifier'),
    h('label', { for: 'api-key' }, 'API key'),
    input,
    h(
      'p',
      { id: 'sign-in-help', class: 'muted small' },
      'Your administrator creates keys with ',
      h('code', {}, 'npx xray apikey create --name NAME'),
      '. The key is kept only for this browser tab.',
    ),
    button,
    error,
    h('p', { class: 'muted small disclaimer' }, 'Research software: not a medical device.'),
  );
  queueMicrotask(() => input.focus());
  return h('main', { class: 'sign-in-page' }, form);
}
