/** Upload: drag and drop or pick files, send them as one study with progress, then follow each image. */
import type { Priority, StudyDto } from '@xray/shared';
import { ApiRequestError, type ApiClient, type SubmittedStudy } from '../api-client';
import { h, setText } from '../dom';
import { bytes, dateTime, statusText } from '../format';
import type { ViewerState } from '../viewer-state';
import { confidenceBadge } from './prediction';

export class UploadPanel {
  readonly element: HTMLElement;
  private files: File[] = [];
  private readonly input: HTMLInputElement;
  private readonly dropZone: HTMLElement;
  private readonly fileList: HTMLElement;
  private readonly accession: HTMLInputElement;
  private readonly priority: HTMLSelectElement;
  private readonly submit: HTMLButtonElement;
  private readonly progress: HTMLProgressElement;
  private readonly progressText: HTMLElement;
  private readonly message: HTMLElement;
  private readonly uploads: HTMLElement;
  private uploading = false;
  private uploadsKey: string | null = null;

  constructor(
    private readonly state: ViewerState,
    private readonly api: ApiClient,
    private readonly onUploaded: (
      submitted: SubmittedStudy,
      options: { accessionNumber?: string; priority: Priority },
    ) => void,
  ) {
    this.input = h('input', {
      type: 'file',
      multiple: true,
      id: 'file-input',
      class: 'visually-hidden',
      onchange: () => this.addFiles(this.input.files),
    });
    this.dropZone = h(
      'div',
      {
        class: 'drop-zone',
        ondragover: (event: DragEvent) => {
          event.preventDefault();
          this.dropZone.classList.add('dragging');
        },
        ondragleave: () => this.dropZone.classList.remove('dragging'),
        ondrop: (event: DragEvent) => {
          event.preventDefault();
          this.dropZone.classList.remove('dragging');
          this.addFiles(event.dataTransfer?.files ?? null);
        },
      },
      h('p', { class: 'drop-title' }, 'Drop DICOM, PNG or JPEG files here'),
      h(
        'p',
        {},
        'or ',
        h(
          'label',
          {
            for: 'file-input',
            class: 'button-like',
            tabindex: '0',
            onkeydown: (e: KeyboardEvent) =>
              (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), this.input.click()),
          },
          'choose files',
        ),
        this.input,
      ),
      h(
        'p',
        { class: 'muted small' },
        'All files of one upload form one study. The file type is recognised from the content.',
      ),
    );
    this.fileList = h('ul', { class: 'file-list', 'aria-label': 'Files to upload' });
    this.accession = h('input', { type: 'text', id: 'accession', autocomplete: 'off', maxlength: '64' });
    this.priority = h(
      'select',
      { id: 'priority' },
      h('option', { value: 'routine' }, 'Routine'),
      h('option', { value: 'stat' }, 'STAT (urgent)'),
    );
    this.submit = h('button', { type: 'submit', class: 'primary', disabled: true }, 'Upload');
    this.progress = h('progress', { max: '100', value: '0', 'aria-label': 'Upload progress', hidden: true });
    this.progressText = h('p', { class: 'progress-text', 'aria-live': 'polite' });
    this.message = h('div', { class: 'message', role: 'alert' });
    this.uploads = h('div', { class: 'uploads' });

    const form = h(
      'form',
      {
        class: 'upload-form',
        onsubmit: (event: Event) => {
          event.preventDefault();
          void this.upload();
        },
      },
      this.dropZone,
      this.fileList,
      h(
        'div',
        { class: 'form-row' },
        h('label', { for: 'accession' }, 'Accession number ', h('span', { class: 'muted' }, '(optional)')),
        this.accession,
        h('label', { for: 'priority' }, 'Priority'),
        this.priority,
        this.submit,
      ),
      this.progress,
      this.progressText,
      this.message,
    );
    this.element = h(
      'section',
      { class: 'upload', 'aria-labelledby': 'upload-heading' },
      h('h2', { id: 'upload-heading' }, 'Upload radiographs'),
      form,
      h('h2', {}, 'This session’s uploads'),
      this.uploads,
    );
    this.renderFiles();
  }

  render(): void {
    const studies = this.state.uploadedStudyIds
      .map((id) => this.state.studies.get(id))
      .filter((s): s is StudyDto => !!s);
    const key = studies
      .map((s) => `${s.id}:${s.instances.map((i) => `${i.status}${i.prediction?.label ?? ''}`).join(',')}`)
      .join(';');
    if (key === this.uploadsKey) return;
    this.uploadsKey = key;
    this.uploads.replaceChildren(
      ...(studies.length
        ? studies.map((study) => this.studyBlock(study))
        : [h('p', { class: 'muted' }, 'Nothing uploaded yet.')]),
    );
  }

  private addFiles(list: FileList | null): void {
    if (!list) return;
    this.files.push(...Array.from(list));
    this.input.value = '';
    setText(this.message, '');
    this.renderFiles();
  }

  private renderFiles(): void {
    const total = this.files.reduce((sum, f) => sum + f.size, 0);
    this.fileList.replaceChildren(
      ...this.files.map((file, index) =>
        h(
          'li',
          {},
          h('span', { class: 'file-name' }, file.name),
          h('span', { class: 'muted' }, bytes(file.size)),
          h(
            'button',
            {
              type: 'button',
              class: 'link',
              'aria-label': `Remove ${file.name}`,
              disabled: this.uploading,
              onclick: () => this.removeFile(index),
            },
            'Remove',
          ),
        ),
      ),
    );
    this.fileList.hidden = this.files.length === 0;
    this.submit.disabled = this.files.length === 0 || this.uploading;
    setText(
      this.submit,
      this.files.length
        ? `Upload ${this.files.length} file${this.files.length === 1 ? '' : 's'} (${bytes(total)})`
        : 'Upload',
    );
  }

  private removeFile(index: number): void {
    this.files.splice(index, 1);
    this.renderFiles();
  }

  private async upload(): Promise<void> {
    if (this.files.length === 0 || this.uploading) return;
    const files = this.files;
    this.uploading = true;
    this.renderFiles();
    this.progress.hidden = false;
    this.progress.value = 0;
    setText(this.message, '');
    const options = {
      accessionNumber: this.accession.value.trim() || undefined,
      priority: this.priority.value as Priority,
    };
    try {
      const submitted = await this.api.uploadStudy(files, {
        ...options,
        onProgress: (loaded, total) => {
          const pct = total ? Math.round((loaded / total) * 100) : 0;
          this.progress.value = pct;
          setText(
            this.progressText,
            `Uploading ${files.length} file${files.length === 1 ? '' : 's'}: ${pct} % (${bytes(loaded)} of ${bytes(total)})`,
          );
        },
      });
      this.files = [];
      this.accession.value = '';
      setText(
        this.progressText,
        `Uploaded ${files.length} file${files.length === 1 ? '' : 's'}; processing has started.`,
      );
      this.onUploaded(submitted, options);
    } catch (error) {
      setText(this.progressText, '');
      setText(
        this.message,
        error instanceof ApiRequestError ? `Upload failed: ${error.message} (${error.code})` : 'Upload failed.',
      );
    } finally {
      this.uploading = false;
      this.progress.hidden = true;
      this.renderFiles();
    }
  }

  private studyBlock(study: StudyDto): HTMLElement {
    return h(
      'article',
      { class: 'upload-study', 'data-study-id': study.id },
      h(
        'header',
        {},
        h('strong', {}, study.accessionNumber ? `Accession ${study.accessionNumber}` : `Study ${study.id.slice(0, 8)}`),
        h(
          'span',
          { class: 'muted' },
          ` · ${dateTime(study.createdAt)} · ${study.instances.length} image${study.instances.length === 1 ? '' : 's'}`,
        ),
        h(
          'button',
          { type: 'button', class: 'secondary', onclick: () => this.state.openStudies([study.id], { replace: false }) },
          'View',
        ),
      ),
      h(
        'ul',
        { class: 'instance-statuses' },
        ...study.instances.map((instance) =>
          h(
            'li',
            { 'data-instance-id': instance.id },
            h('span', { class: 'file-name' }, instance.filename),
            instance.prediction
              ? h('span', { class: 'label' }, instance.prediction.label, ' ', confidenceBadge(instance.prediction))
              : null,
            h('span', { class: `status-chip status-${instance.status}` }, statusText(instance)),
          ),
        ),
      ),
    );
  }
}
