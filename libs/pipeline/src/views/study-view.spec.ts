import type { StoredWebhookEvent, StudyRecord } from '@xray/db';
import { studyView, webhookEventView } from './study-view';

const at = '2026-01-01T00:00:00.000Z';
const record: StudyRecord = {
  id: 's1',
  status: 'done',
  accessionNumber: 'ACC',
  priority: 'routine',
  callbackUrl: 'https://hooks.example.org/x',
  createdAt: at,
  updatedAt: at,
  instances: [
    {
      id: 'i1',
      filename: 'a.png',
      status: 'done',
      format: 'png',
      sha256: 'h',
      size: 10,
      dicom: null,
      error: null,
      prediction: {
        label: 'Chest',
        classIndex: 3,
        confidence: 0.9,
        band: 'green',
        top5: [{ label: 'Chest', probability: 0.9 }],
        model: { name: 'm', version: '1', sha256: 'abc' },
        preprocessing: { width: 224, height: 224, channels: 3, normalization: 'minus1to1', resize: 'stretch' },
        explanation: { status: 'done', layer: 'out_relu' },
        warnings: ['out-of-distribution'],
        oodScore: 2.4,
      },
      createdAt: at,
      updatedAt: at,
    },
    {
      id: 'i2',
      filename: 'b.png',
      status: 'failed',
      format: 'png',
      sha256: 'h',
      size: 5,
      dicom: null,
      error: { code: 'CORRUPT_FILE', message: 'cut short' },
      prediction: null,
      createdAt: at,
      updatedAt: at,
    },
  ],
};

describe('API views', () => {
  it('adds the links of PUBLIC_URL to a study record', () => {
    const view = studyView(record, 'https://xray.example.org');
    expect(view.instances[0]).toMatchObject({
      imageUrl: 'https://xray.example.org/v1/instances/i1/image',
      prediction: {
        label: 'Chest',
        classIndex: 3,
        confidence: 0.9,
        band: 'green',
        warnings: ['out-of-distribution'],
        oodScore: 2.4,
      },
      explanation: {
        status: 'done',
        heatmapUrl: 'https://xray.example.org/v1/instances/i1/heatmap',
        overlayUrl: 'https://xray.example.org/v1/instances/i1/overlay',
        layer: 'out_relu',
      },
      model: { name: 'm', version: '1', sha256: 'abc' },
    });
    expect(view.instances[1]).toMatchObject({
      imageUrl: 'https://xray.example.org/v1/instances/i2/image',
      prediction: null,
      explanation: null,
      model: null,
      preprocessing: null,
      error: { code: 'CORRUPT_FILE', message: 'cut short' },
    });
  });

  it('builds the same webhook body from a stored event every time, and sends old stored views as they are', () => {
    const stored: StoredWebhookEvent = { id: 'e1', type: 'study.completed', createdAt: at, data: { study: record } };
    const body = JSON.stringify(webhookEventView(stored, 'https://gw'));
    expect(JSON.stringify(webhookEventView(JSON.parse(JSON.stringify(stored)), 'https://gw'))).toBe(body);
    const sent = JSON.parse(body);
    expect(sent).toMatchObject({ id: 'e1', type: 'study.completed', createdAt: at });
    expect(sent.data.study.instances[0].heatmapUrl).toBeUndefined();
    expect(sent.data.study.instances[0].explanation.heatmapUrl).toBe('https://gw/v1/instances/i1/heatmap');
    const legacy = { ...stored, data: { study: studyView(record, 'https://old') } } as unknown as StoredWebhookEvent;
    expect(webhookEventView(legacy, 'https://gw')).toBe(legacy);
  });
});
