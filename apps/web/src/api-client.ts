/** The public API v1, as the browser sees it. Every call carries the signed-in API key. */
import type {
  ApiError,
  ExplanationLayersDto,
  InstanceStatus,
  Priority,
  StudyDicomDto,
  StudyDto,
  StudyPage,
} from '@xray/shared';

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

/** Turns a non-2xx answer into an ApiRequestError, keeping the API's `{error:{code,message}}`. */
export function apiRequestError(status: number, body: string): ApiRequestError {
  try {
    const parsed = JSON.parse(body) as Partial<ApiError>;
    if (parsed.error?.code)
      return new ApiRequestError(status, parsed.error.code, parsed.error.message ?? parsed.error.code);
  } catch {
    // not JSON: fall through to a generic message
  }
  return new ApiRequestError(
    status,
    status === 0 ? 'NETWORK' : 'HTTP_' + status,
    status === 0 ? 'The gateway could not be reached.' : `The gateway answered HTTP ${status}.`,
  );
}

/**
 * The API writes absolute links with its configured public URL; the page is served by the same
 * gateway, so it follows their path on its own origin (another host name for the same gateway
 * would otherwise be a cross-origin request that the page's security policy refuses).
 */
export function sameOriginPath(link: string): string {
  if (!/^https?:\/\//i.test(link)) return link;
  const url = new URL(link);
  return `${url.pathname}${url.search}`;
}

export interface StudyQuery {
  limit?: number;
  cursor?: string | null;
  accession?: string;
  label?: string;
}

export interface UploadOptions {
  accessionNumber?: string;
  priority?: Priority;
  onProgress?: (loaded: number, total: number) => void;
}

/** What POST /v1/studies answers (202). */
export type SubmittedStudy = Pick<StudyDto, 'id' | 'status'> & {
  instances: { id: string; filename: string; status: InstanceStatus }[];
};

/** The study as far as the 202 answer tells, until GET /v1/studies/:id brings the rest. */
export function provisionalStudy(
  submitted: SubmittedStudy,
  options: { accessionNumber?: string; priority?: Priority } = {},
): StudyDto {
  const now = new Date().toISOString();
  return {
    id: submitted.id,
    status: submitted.status,
    accessionNumber: options.accessionNumber ?? null,
    priority: options.priority ?? 'routine',
    callbackUrl: null,
    createdAt: now,
    updatedAt: now,
    instances: submitted.instances.map((i) => ({
      id: i.id,
      filename: i.filename,
      status: i.status,
      imageUrl: `/v1/instances/${encodeURIComponent(i.id)}/image`,
      prediction: null,
      explanation: null,
      error: null,
      dicom: null,
      model: null,
      preprocessing: null,
      createdAt: now,
      updatedAt: now,
    })),
  };
}

export class ApiClient {
  /** Called when the API stops accepting the key (revoked while signed in). */
  onUnauthorized: (() => void) | null = null;

  constructor(
    readonly apiKey: string,
    private readonly baseUrl = '',
  ) {}

  listStudies(query: StudyQuery = {}): Promise<StudyPage> {
    const params = new URLSearchParams();
    if (query.limit) params.set('limit', String(query.limit));
    if (query.cursor) params.set('cursor', query.cursor);
    if (query.accession) params.set('accession', query.accession);
    if (query.label) params.set('label', query.label);
    const search = params.toString();
    return this.getJson<StudyPage>(`/v1/studies${search ? `?${search}` : ''}`);
  }

  getStudy(id: string): Promise<StudyDto> {
    return this.getJson<StudyDto>(`/v1/studies/${encodeURIComponent(id)}`);
  }

  /** The Grad-CAM++ layers across the network's depth (404 until explained). */
  getExplanations(instanceId: string): Promise<ExplanationLayersDto> {
    return this.getJson<ExplanationLayersDto>(`/v1/instances/${encodeURIComponent(instanceId)}/explanations`);
  }

  /** The study's DICOM result objects and where they were sent. */
  getStudyDicom(id: string): Promise<StudyDicomDto> {
    return this.getJson<StudyDicomDto>(`/v1/studies/${encodeURIComponent(id)}/dicom`);
  }

  /** A PNG from /v1/instances/:id/image|heatmap|overlay (URLs as the API gives them). */
  async fetchBlob(url: string): Promise<Blob> {
    const response = await this.send(url);
    return response.blob();
  }

  /** EventSource cannot send headers, so the events stream takes the key as a query parameter. */
  eventsUrl(): string {
    return `${this.baseUrl}/v1/events?access_token=${encodeURIComponent(this.apiKey)}`;
  }

  /** XMLHttpRequest rather than fetch: only it reports upload progress. */
  uploadStudy(files: readonly File[], options: UploadOptions = {}): Promise<SubmittedStudy> {
    const form = new FormData();
    for (const file of files) form.append('files', file, file.name);
    if (options.accessionNumber) form.append('accessionNumber', options.accessionNumber);
    if (options.priority) form.append('priority', options.priority);
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `${this.baseUrl}/v1/studies`);
      xhr.setRequestHeader('Authorization', `Bearer ${this.apiKey}`);
      xhr.upload.onprogress = (event) => options.onProgress?.(event.loaded, event.lengthComputable ? event.total : 0);
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) resolve(JSON.parse(xhr.responseText) as SubmittedStudy);
        else reject(this.failed(xhr.status, xhr.responseText));
      };
      xhr.onerror = () => reject(apiRequestError(0, ''));
      xhr.send(form);
    });
  }

  private async getJson<T>(path: string): Promise<T> {
    const response = await this.send(path);
    return (await response.json()) as T;
  }

  private async send(path: string): Promise<Response> {
    const url = `${this.baseUrl}${sameOriginPath(path)}`;
    let response: Response;
    try {
      response = await fetch(url, { headers: { Authorization: `Bearer ${this.apiKey}` } });
    } catch {
      throw apiRequestError(0, '');
    }
    if (!response.ok) throw this.failed(response.status, await response.text());
    return response;
  }

  private failed(status: number, body: string): ApiRequestError {
    if (status === 401) this.onUnauthorized?.();
    return apiRequestError(status, body);
  }
}
