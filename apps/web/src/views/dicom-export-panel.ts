/** Where the study's DICOM results (SR, Grad-CAM++ Secondary Captures) were sent, and whether it worked. */
import type { StudyDicomDto, StudyDto } from '@xray/shared';
import { summariseDestinations } from '../dicom-exports';
import { h } from '../dom';

/** Fetches GET /v1/studies/:id/dicom. */
export type LoadStudyDicom = (studyId: string) => Promise<StudyDicomDto>;

const STATUS_TEXT = { delivered: '✓ Delivered', pending: '… Sending', failed: '✕ Failed' } as const;

export class DicomExportPanel {
  readonly element: HTMLElement;
  private readonly body: HTMLElement;
  private shownKey = '';
  private request = 0;

  constructor(private readonly loadStudyDicom: LoadStudyDicom) {
    this.body = h('div', { class: 'dicom-exports-body' });
    this.element = h(
      'section',
      { class: 'panel-section dicom-exports', 'aria-label': 'DICOM results' },
      h('h3', {}, 'DICOM results'),
      this.body,
      h('button', { type: 'button', class: 'secondary small', onclick: () => void this.load(this.study) }, 'Refresh'),
    );
  }

  private study: StudyDto | null = null;

  /** Shows the study's exports; loads again when the study changed (status, updates). */
  show(study: StudyDto): void {
    const key = `${study.id}|${study.status}|${study.updatedAt}`;
    if (key === this.shownKey) return;
    this.shownKey = key;
    this.study = study;
    void this.load(study);
  }

  private async load(study: StudyDto | null): Promise<void> {
    if (!study) return;
    const request = ++this.request;
    if (study.status !== 'done') {
      this.body.replaceChildren(h('p', { class: 'muted' }, 'Made when the study is complete.'));
      return;
    }
    try {
      const dicom = await this.loadStudyDicom(study.id);
      if (request !== this.request) return;
      const destinations = summariseDestinations(dicom);
      const made = `${dicom.objects.length} object${dicom.objects.length === 1 ? '' : 's'} (1 SR, ${dicom.objects.length - 1} SC)`;
      this.body.replaceChildren(
        h('p', { class: 'muted small' }, made),
        destinations.length === 0
          ? h('p', { class: 'muted' }, 'No DICOM destination is set up for this client.')
          : h(
              'ul',
              { class: 'dicom-destinations' },
              ...destinations.map((d) =>
                h(
                  'li',
                  { class: `dicom-destination status-${d.status}`, 'data-target': d.target },
                  h('span', { class: 'target' }, `${d.transport === 'dimse' ? 'C-STORE' : 'STOW-RS'} ${d.target}`),
                  ' ',
                  h('span', { class: 'state' }, STATUS_TEXT[d.status]),
                  ' ',
                  h('span', { class: 'muted small' }, `${d.delivered} of ${d.delivered + d.pending + d.failed} stored`),
                  d.lastError ? h('p', { class: 'muted small error' }, d.lastError) : '',
                ),
              ),
            ),
      );
    } catch {
      if (request === this.request)
        this.body.replaceChildren(h('p', { class: 'muted' }, 'Could not load the exports.'));
    }
  }
}
