/** The signed-in page: header with tabs, the upload, viewer and history panels, live updates, keys. */
import { provisionalStudy, type ApiClient } from './api-client';
import { h, setText } from './dom';
import { ImageCache } from './image-cache';
import { handleShortcut, SHORTCUT_HELP } from './keyboard';
import { LiveUpdates } from './live-updates';
import { ViewerState, type Tab } from './viewer-state';
import { HistoryPanel } from './views/history-panel';
import { UploadPanel } from './views/upload-panel';
import { ViewerPanel } from './views/viewer-panel';

const TAB_NAMES: Record<Tab, string> = { upload: 'Upload', viewer: 'Viewer', history: 'History' };

export function startApp(root: HTMLElement, api: ApiClient, signOut: (notice?: string) => void): () => void {
  const state = new ViewerState();
  const cache = new ImageCache((url) => api.fetchBlob(url));
  const live = new LiveUpdates(api, {
    activeStudyIds: () => state.activeStudyIds(),
    onStatus: (event) => state.applyStatus(event),
    onStudy: (study) => state.upsertStudy(study),
    onConnection: (connection) => {
      setText(connectionBadge, connection === 'live' ? 'Live' : 'Polling');
      connectionBadge.className = `connection connection-${connection}`;
    },
  });

  const upload = new UploadPanel(state, api, (submitted, options) => {
    // Show the images as queued at once; the full study follows from the API.
    state.upsertStudy(provisionalStudy(submitted, options));
    state.uploadedStudyIds.unshift(submitted.id);
    live.refresh(submitted.id);
    state.openStudies([submitted.id], { replace: false, mode: submitted.instances.length > 1 ? 'grid' : 'single' });
  });
  const viewer = new ViewerPanel(
    state,
    cache,
    (id) => api.getExplanations(id),
    (id) => api.getStudyDicom(id),
  );
  const history = new HistoryPanel(state, api);
  const panels: Record<Tab, HTMLElement> = { upload: upload.element, viewer: viewer.element, history: history.element };

  const tabButtons = new Map<Tab, HTMLButtonElement>();
  for (const tab of Object.keys(TAB_NAMES) as Tab[]) {
    panels[tab].id = `panel-${tab}`;
    tabButtons.set(
      tab,
      h(
        'button',
        { type: 'button', id: `tab-${tab}`, 'aria-controls': `panel-${tab}`, onclick: () => setTab(tab) },
        TAB_NAMES[tab],
      ),
    );
  }
  const viewerTab = tabButtons.get('viewer') as HTMLButtonElement;
  const connectionBadge = h(
    'span',
    {
      class: 'connection connection-polling',
      title: 'How status updates arrive: live events, or polling when the event stream is unavailable',
    },
    'Polling',
  );
  const header = h(
    'header',
    { class: 'app-header' },
    h('h1', {}, 'X-ray body part'),
    h('nav', { 'aria-label': 'Sections' }, ...tabButtons.values()),
    h(
      'div',
      { class: 'header-end' },
      connectionBadge,
      h('button', { type: 'button', class: 'secondary', onclick: () => signOut() }, 'Sign out'),
    ),
  );
  const footer = h(
    'footer',
    { class: 'app-footer' },
    h('span', {}, 'Keys: ', SHORTCUT_HELP),
    h('span', {}, 'Research software: not a medical device.'),
  );
  root.replaceChildren(header, h('main', { class: 'app-main' }, ...Object.values(panels)), footer);

  function setTab(tab: Tab): void {
    state.tab = tab;
    state.changed();
  }

  let frame = 0;
  let shownTab: Tab | null = null;
  function render(): void {
    frame = 0;
    for (const [tab, button] of tabButtons) {
      if (state.tab === tab) button.setAttribute('aria-current', 'page');
      else button.removeAttribute('aria-current');
      panels[tab].hidden = state.tab !== tab;
    }
    const count = state.allItems().length;
    setText(viewerTab, count ? `Viewer (${count})` : 'Viewer');
    if (state.tab !== shownTab && state.tab === 'history') history.show();
    shownTab = state.tab;
    upload.render();
    if (state.tab === 'viewer') viewer.render();
  }
  // Many events can arrive in one frame (fifty images finishing): render once per frame.
  state.onChange(() => {
    if (!frame) frame = requestAnimationFrame(render);
  });

  const onKey = (event: KeyboardEvent) => {
    if (state.tab !== 'viewer') return;
    const selectedId = () => state.selected()?.instance.id;
    const handled = handleShortcut(event, {
      step: (delta) => {
        state.step(delta);
        if (state.mode === 'grid') requestAnimationFrame(() => viewer.grid.focusSelected());
      },
      toggleHeatmap: () => {
        const id = selectedId();
        if (id) state.toggleHeatmap(id);
      },
      toggleMode: () => state.setMode(state.mode === 'grid' ? 'single' : 'grid'),
      toggleAnnotations: () => state.toggleAnnotations(),
      zoom: (factor) => {
        if (state.mode !== 'single') return;
        if (factor === 'fit') viewer.single.resetZoom();
        else viewer.single.zoomBy(factor);
      },
      stepLayer: (delta) => {
        if (state.mode === 'single') viewer.single.stepLayer(delta);
      },
      toggleLayerAnimation: () => {
        if (state.mode === 'single') viewer.single.toggleLayerAnimation();
      },
      openSelected: () => state.setMode('single'),
      backToGrid: () => state.setMode('grid'),
    });
    if (handled) event.preventDefault();
  };
  document.addEventListener('keydown', onKey);
  api.onUnauthorized = () => signOut('The API key is no longer accepted. Sign in again.');
  live.start();
  render();

  return () => {
    live.stop();
    cache.clear();
    document.removeEventListener('keydown', onKey);
    if (frame) cancelAnimationFrame(frame);
  };
}
