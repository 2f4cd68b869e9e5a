import { StageTimer } from './stage-timer';

describe('StageTimer', () => {
  it('sums the wall time of each stage, failed work included', async () => {
    const stages = new StageTimer();
    const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    expect(
      await stages.time(
        'db',
        wait(20).then(() => 'row'),
      ),
    ).toBe('row');
    await stages.time('db', wait(20));
    await expect(
      stages.time(
        'storage',
        wait(10).then(() => Promise.reject(new Error('down'))),
      ),
    ).rejects.toThrow('down');
    stages.add('model', 12.345);
    expect(stages.ms.db).toBeGreaterThanOrEqual(38);
    expect(stages.ms.storage).toBeGreaterThanOrEqual(8);
    expect(stages.rounded()).toEqual({
      db: Math.round(stages.ms.db * 10) / 10,
      storage: Math.round(stages.ms.storage * 10) / 10,
      model: 12.3,
    });
  });
});
