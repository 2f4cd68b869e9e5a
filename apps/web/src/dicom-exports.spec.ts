import type { StudyDicomDto } from '@xray/shared';
import { summariseDestinations } from './dicom-exports';

const delivery = (
  destination: string,
  status: 'pending' | 'delivered' | 'failed',
  lastError: string | null = null,
) => ({
  id: `${destination}-${status}`,
  destination: { id: destination, transport: 'dimse' as const, target: `${destination}@pacs:104`, removed: false },
  status,
  attempts: 1,
  lastError,
  deliveredAt: null,
  createdAt: '2026-12-07T00:00:00Z',
});

const object = (deliveries: ReturnType<typeof delivery>[]) => ({
  kind: 'sc' as const,
  sopInstanceUid: '2.25.1',
  instanceId: null,
  url: '',
  built: true,
  deliveries,
});

describe('summariseDestinations', () => {
  it('counts objects per destination and names the worst state', () => {
    const dicom: StudyDicomDto = {
      studyInstanceUid: '1.2.3',
      objects: [
        object([delivery('A', 'delivered'), delivery('B', 'pending', 'connection refused')]),
        object([delivery('A', 'delivered'), delivery('B', 'failed', 'refused association')]),
      ],
    };
    expect(summariseDestinations(dicom)).toEqual([
      {
        target: 'A@pacs:104',
        transport: 'dimse',
        delivered: 2,
        pending: 0,
        failed: 0,
        lastError: null,
        status: 'delivered',
      },
      {
        target: 'B@pacs:104',
        transport: 'dimse',
        delivered: 0,
        pending: 1,
        failed: 1,
        lastError: 'refused association',
        status: 'failed',
      },
    ]);
  });

  it('is empty without deliveries', () => {
    expect(summariseDestinations({ studyInstanceUid: null, objects: [] })).toEqual([]);
  });
});
