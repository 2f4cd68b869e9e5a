import { BODY_PART_LABELS } from '@xray/shared';
import { BODY_PART_CODING, bodyPartCoding } from './body-part-codes';

describe('body part coding (CID 4031, PS3.16 Annex L)', () => {
  it('codes every UNIFESP label; Others has no anatomic code', () => {
    expect(Object.keys(BODY_PART_CODING).sort()).toEqual([...BODY_PART_LABELS].sort());
    for (const label of BODY_PART_LABELS) {
      const { code, bodyPartExamined } = bodyPartCoding(label);
      if (label === 'Others') {
        expect(code).toBeNull();
        expect(bodyPartExamined).toBeNull();
        continue;
      }
      expect(code?.scheme).toBe('SCT');
      expect(code?.value).toMatch(/^[1-9]\d{5,17}$/);
      expect(code?.meaning.length).toBeGreaterThan(2);
      expect(bodyPartExamined).toMatch(/^[A-Z]{2,16}$/);
    }
  });

  it('uses distinct codes and defined terms', () => {
    const coded = Object.values(BODY_PART_CODING).filter((c) => c.code);
    expect(new Set(coded.map((c) => c.code!.value)).size).toBe(coded.length);
    expect(new Set(coded.map((c) => c.bodyPartExamined)).size).toBe(coded.length);
  });

  it('spot-checks codes against PS3.16', () => {
    expect(bodyPartCoding('Chest')).toEqual({
      code: { value: '816094009', scheme: 'SCT', meaning: 'Chest' },
      bodyPartExamined: 'CHEST',
    });
    expect(bodyPartCoding('Cervical Spine').code?.value).toBe('122494005');
    expect(bodyPartCoding('Sinus').code).toEqual({ value: '2095001', scheme: 'SCT', meaning: 'Paranasal sinus' });
    expect(bodyPartCoding('Lower Leg').bodyPartExamined).toBe('LEG');
  });

  it('rejects a label it does not know', () => {
    expect(() => bodyPartCoding('Tail')).toThrow(/unknown body part label "Tail"/);
  });
});
