/** Entry point: sign in (or reuse this tab's key), then the app. */
import { ApiClient } from './api-client';
import { startApp } from './app';
import { session } from './session';
import { signInView } from './views/sign-in';

const root = document.getElementById('app') as HTMLElement;
let stopApp: (() => void) | null = null;

function showSignIn(notice = ''): void {
  stopApp?.();
  stopApp = null;
  session.clear();
  root.replaceChildren(signInView(signedIn, notice));
}

function signedIn(api: ApiClient): void {
  session.set(api.apiKey);
  stopApp = startApp(root, api, showSignIn);
}

const saved = session.get();
if (saved) signedIn(new ApiClient(saved));
else showSignIn();
