import { BODY_PART_LABELS } from './labels';
import { checkRegistration, compatibleLabels, describeMismatch } from './registration-check';

describe('compatibleLabels', () => {
  it.each([
    ['CHEST', 'Chest'],
    ['HAND', 'Hand'],
    ['LSPINE', 'Lumbar Spine'],
    ['CSPINE', 'Cervical Spine'],
    ['TSPINE', 'Thoracic Spine'],
    ['SKULL', 'Skull'],
    ['PELVIS', 'Pelvis'],
    ['ABDOMEN', 'Abdomen'],
    ['ANKLE', 'Ankle'],
    ['CLAVICLE', 'Clavicles'],
    ['ELBOW', 'Elbow'],
    ['FOOT', 'Feet'],
    ['FINGER', 'Finger'],
    ['FOREARM', 'Forearm'],
    ['HIP', 'Hip'],
    ['KNEE', 'Knee'],
    ['LEG', 'Lower Leg'],
    ['SHOULDER', 'Shoulder'],
    ['SINUS', 'Sinus'],
    ['THIGH', 'Thigh'],
    ['WRIST', 'Wrist'],
  ])('maps the DICOM term %s to %s', (term, label) => {
    expect(compatibleLabels(term)).toContain(label);
  });

  it('covers every label except Others with at least one term', () => {
    const covered = new Set(
      [
        'ABDOMEN',
        'ANKLE',
        'CSPINE',
        'CHEST',
        'CLAVICLE',
        'ELBOW',
        'FOOT',
        'FINGER',
        'FOREARM',
        'HAND',
        'HIP',
        'KNEE',
        'LEG',
        'LSPINE',
        'PELVIS',
        'SHOULDER',
        'SINUS',
        'SKULL',
        'THIGH',
        'TSPINE',
        'WRIST',
      ].flatMap((t) => compatibleLabels(t) ?? []),
    );
    expect(BODY_PART_LABELS.filter((l) => !covered.has(l))).toEqual(['Others']);
  });

  it('ignores case, spaces and punctuation in header values', () => {
    expect(compatibleLabels(' l-spine ')).toEqual(['Lumbar Spine']);
    expect(compatibleLabels('Abdomen Pelvis')).toEqual(expect.arrayContaining(['Abdomen', 'Pelvis']));
  });

  it('reads body parts out of free-text study descriptions, longest phrase first', () => {
    expect(compatibleLabels('XR LUMBAR SPINE 2 VIEWS')).toEqual(['Lumbar Spine']);
    expect(compatibleLabels('RX TORAX PA')).toEqual(['Chest']);
    expect(compatibleLabels('Hand left, 3 views')).toEqual(['Hand', 'Finger', 'Wrist']);
    expect(compatibleLabels('C-SPINE AP/LAT')).toEqual(['Cervical Spine']);
  });

  it('does not see body parts inside other words', () => {
    expect(compatibleLabels('HANDLING TEST')).toBeNull();
    expect(compatibleLabels('SHIPPED')).toBeNull();
  });

  it('returns null for empty or unknown values', () => {
    expect(compatibleLabels(undefined)).toBeNull();
    expect(compatibleLabels('')).toBeNull();
    expect(compatibleLabels('BREAST')).toBeNull();
    expect(compatibleLabels('QC PHANTOM')).toBeNull();
  });
});

describe('checkRegistration', () => {
  it('flags a hand study whose image is a chest', () => {
    const check = checkRegistration({ bodyPartExamined: 'HAND' }, 'Chest');
    expect(check.status).toBe('mismatch');
    expect(check.findings).toEqual([
      { source: 'bodyPartExamined', value: 'HAND', expected: ['Hand', 'Finger', 'Wrist'], agrees: false },
    ]);
    expect(describeMismatch(check, 'Chest')).toEqual([
      'DICOM Body Part Examined says "HAND" (Hand, Finger, Wrist) but the image looks like Chest.',
    ]);
  });

  it('accepts neighbouring regions that share a field of view', () => {
    expect(checkRegistration({ bodyPartExamined: 'WRIST' }, 'Hand').status).toBe('consistent');
    expect(checkRegistration({ bodyPartExamined: 'HIP' }, 'Pelvis').status).toBe('consistent');
  });

  it('flags a disagreeing study description even when the body part agrees', () => {
    const check = checkRegistration({ bodyPartExamined: 'CHEST', studyDescription: 'KNEE 2 VIEWS' }, 'Chest');
    expect(check.status).toBe('mismatch');
    expect(check.findings.map((f) => [f.source, f.agrees])).toEqual([
      ['bodyPartExamined', true],
      ['studyDescription', false],
    ]);
  });

  it('flags an Others prediction for a recognised body part', () => {
    expect(checkRegistration({ bodyPartExamined: 'CHEST' }, 'Others').status).toBe('mismatch');
  });

  it('is unchecked without DICOM facts, without a prediction, or with unknown terms', () => {
    expect(checkRegistration(null, 'Chest').status).toBe('unchecked');
    expect(checkRegistration({ bodyPartExamined: 'CHEST' }, null).status).toBe('unchecked');
    expect(checkRegistration({ bodyPartExamined: 'BREAST', studyDescription: 'QA' }, 'Chest')).toEqual({
      status: 'unchecked',
      findings: [],
    });
  });
});
