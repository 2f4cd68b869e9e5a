import { DynamicBatcher } from './batcher';

describe('DynamicBatcher', () => {
  it('runs items that arrive together as one batch, up to the max size', async () => {
    const batches: number[][] = [];
    const batcher = new DynamicBatcher<number, number>(
      async (items) => {
        batches.push(items);
        return items.map((i) => i * 10);
      },
      3,
      50,
    );
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => batcher.submit(i)));
    expect(results).toEqual([10, 20, 30, 40, 50]);
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('does not hold a lone item longer than the max wait', async () => {
    const batcher = new DynamicBatcher<number, number>(async (items) => items, 8, 20);
    const started = Date.now();
    await batcher.submit(1);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('fails every item of a batch whose run fails, and goes on with the next', async () => {
    let calls = 0;
    const batcher = new DynamicBatcher<number, number>(
      async (items) => {
        if (calls++ === 0) throw new Error('model crashed');
        return items;
      },
      2,
      5,
    );
    await expect(Promise.all([batcher.submit(1), batcher.submit(2)])).rejects.toThrow('model crashed');
    await expect(batcher.submit(3)).resolves.toBe(3);
  });
});
