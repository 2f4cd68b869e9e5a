import { BODY_PART_LABELS, confidenceBand, XrayError } from './index';

describe('shared contracts', () => {
  it('keeps the 22 UNIFESP labels in competition order', () => {
    expect(BODY_PART_LABELS).toHaveLength(22);
    expect(BODY_PART_LABELS[3]).toBe('Chest');
    expect(BODY_PART_LABELS[21]).toBe('Wrist');
  });

  it('bands confidence: green > 90 %, orange 70-90 %, red < 70 %', () => {
    expect(confidenceBand(0.95)).toBe('green');
    expect(confidenceBand(0.9)).toBe('orange');
    expect(confidenceBand(0.7)).toBe('orange');
    expect(confidenceBand(0.69)).toBe('red');
    expect(confidenceBand(0.8, { green: 0.75, orange: 0.5 })).toBe('green');
  });

  it('serialises typed errors as {code, message}', () => {
    expect(new XrayError('CORRUPT_FILE', 'cut short').toJSON()).toEqual({ code: 'CORRUPT_FILE', message: 'cut short' });
  });
});
