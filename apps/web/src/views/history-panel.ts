/** History: earlier studies newest first, a page at a time, searchable by accession number. */
import { BODY_PART_LABELS, type StudyDto } from '@xray/shared';
import { ApiRequestError, type ApiClient } from '../api-client';
import { h, setText } from '../dom';
import { dateTime } from '../format';
import { checkRegistration } from '@xray/shared';
import type { Mode, ViewerState } from '../viewer-state';

const PAGE_SIZE = 20;

export class HistoryPanel {
  readonly element: HTMLElement;
  private readonly accession: HTMLInputElement;
  private readonly label: HTMLSelectElement;
  private readonly rows: HTMLTableSectionElement;
  private readonly more: HTMLButtonElement;
  private readonly message: HTMLElement;
  private studies: StudyDto[] = [];
  private cursor: string | null = null;
  private request = 0;

  constructor(
    private readonly state: ViewerState,
    private readonly api: ApiClient,
  ) {
    this.accession = h('input', {
      type: 'search',
      id: 'history-accession',
      autocomplete: 'off',
      placeholder: 'e.g. ACC-2024-0001',
    });
    this.label = h(
      'select',
      { id: 'history-label' },
      h('option', { value: '' }, 'Any body part'),
      ...BODY_PART_LABELS.map((l) => h('option', { value: l }, l)),
    );
    this.rows = h('tbody');
    this.more = h(
      'button',
      { type: 'button', class: 'secondary', hidden: true, onclick: () => void this.load(false) },
      'Load more',
    );
    this.message = h('p', { class: 'message', role: 'status' });
    const form = h(
      'form',
      {
        class: 'form-row',
        role: 'search',
        onsubmit: (event: Event) => {
          event.preventDefault();
          void this.load(true);
        },
      },
      h('label', { for: 'history-accession' }, 'Accession number'),
      this.accession,
      h('label', { for: 'history-label' }, 'Predicted body part'),
      this.label,
      h('button', { type: 'submit', class: 'primary' }, 'Search'),
      h('button', { type: 'button', class: 'secondary', onclick: () => this.clear() }, 'Clear'),
    );
    const table = h(
      'table',
      { class: 'history-table' },
      h('caption', { class: 'visually-hidden' }, 'Studies, newest first'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Received', 'Accession', 'Status', 'Images', 'Body parts', 'Check', 'Open'].map((t) =>
            h('th', { scope: 'col' }, t),
          ),
        ),
      ),
      this.rows,
    );
    this.element = h(
      'section',
      { class: 'history', 'aria-labelledby': 'history-heading' },
      h('h2', { id: 'history-heading' }, 'History'),
      form,
      h('div', { class: 'table-wrap' }, table),
      this.message,
      this.more,
    );
  }

  /** Each visit shows the newest studies (uploads made meanwhile included). */
  show(): void {
    void this.load(true);
  }

  private clear(): void {
    this.accession.value = '';
    this.label.value = '';
    void this.load(true);
  }

  private async load(fresh: boolean): Promise<void> {
    const request = ++this.request;
    this.more.disabled = true;
    setText(this.message, 'Loading…');
    try {
      const page = await this.api.listStudies({
        limit: PAGE_SIZE,
        cursor: fresh ? null : this.cursor,
        accession: this.accession.value.trim() || undefined,
        label: this.label.value || undefined,
      });
      if (request !== this.request) return; // a newer search replaced this one
      this.studies = fresh ? page.items : [...this.studies, ...page.items];
      this.cursor = page.nextCursor;
      for (const study of page.items) if (!this.state.studies.has(study.id)) this.state.studies.set(study.id, study);
      this.renderRows();
      setText(
        this.message,
        this.studies.length
          ? `${this.studies.length} stud${this.studies.length === 1 ? 'y' : 'ies'}${this.cursor ? ', more available' : ''}`
          : 'No studies found.',
      );
    } catch (error) {
      if (request === this.request)
        setText(
          this.message,
          error instanceof ApiRequestError
            ? `Could not load the history: ${error.message}`
            : 'Could not load the history.',
        );
    } finally {
      this.more.hidden = !this.cursor;
      this.more.disabled = false;
    }
  }

  private renderRows(): void {
    this.rows.replaceChildren(...this.studies.map((study) => this.row(study)));
  }

  private row(study: StudyDto): HTMLTableRowElement {
    const labels = new Map<string, number>();
    for (const i of study.instances)
      if (i.prediction) labels.set(i.prediction.label, (labels.get(i.prediction.label) ?? 0) + 1);
    const checks = study.instances.map((i) => checkRegistration(i.dicom, i.prediction?.label).status);
    const flagged = checks.filter((c) => c === 'mismatch').length;
    const name = study.accessionNumber ?? study.id.slice(0, 8);
    const open = (mode: Mode) => {
      this.state.upsertStudy(study);
      this.state.openStudies([study.id], { replace: true, mode });
    };
    return h(
      'tr',
      { 'data-study-id': study.id },
      h('td', { class: 'nowrap' }, dateTime(study.createdAt)),
      h('td', { class: 'nowrap' }, study.accessionNumber ?? h('span', { class: 'muted' }, '—')),
      h('td', {}, h('span', { class: `status-chip status-${study.status}` }, study.status)),
      h('td', { class: 'num' }, study.instances.length),
      h(
        'td',
        {},
        [...labels].map(([l, n]) => (n > 1 ? `${l} ×${n}` : l)).join(', ') || h('span', { class: 'muted' }, '—'),
      ),
      h(
        'td',
        {},
        flagged
          ? h(
              'span',
              { class: 'flag', title: 'DICOM header and prediction disagree' },
              `⚠ ${flagged} registration warning${flagged === 1 ? '' : 's'}`,
            )
          : checks.includes('consistent')
            ? h('span', { class: 'ok' }, '✓ Consistent')
            : h('span', { class: 'muted', title: 'No DICOM body part or description to check' }, '—'),
      ),
      h(
        'td',
        { class: 'actions' },
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            'aria-label': `Open study ${name} in single mode`,
            onclick: () => open('single'),
          },
          'Single',
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            'aria-label': `Open study ${name} in grid mode`,
            onclick: () => open('grid'),
          },
          'Grid',
        ),
      ),
    );
  }
}
