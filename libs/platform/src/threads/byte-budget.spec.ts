import { ByteBudget } from './byte-budget';

const MiB = 1024 * 1024;

/** A task that records how many bytes were in flight while it ran, and finishes when told. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('ByteBudget', () => {
  it('never lets the bytes in flight exceed the budget, and runs everything', async () => {
    const budget = new ByteBudget(100 * MiB);
    let peak = 0;
    const costs = Array.from({ length: 50 }, (_, i) => (20 + (i % 3) * 10) * MiB);
    const done = await Promise.all(
      costs.map((cost) =>
        budget.run(cost, async () => {
          peak = Math.max(peak, budget.bytesInUse);
          await new Promise((r) => setTimeout(r, 1));
          return cost;
        }),
      ),
    );
    expect(done).toEqual(costs);
    expect(peak).toBeLessThanOrEqual(100 * MiB);
    expect(peak).toBeGreaterThan(60 * MiB); // several at once, not one by one
    expect(budget.bytesInUse).toBe(0);
  });

  it('holds a task that does not fit until enough bytes are released, in arrival order', async () => {
    const budget = new ByteBudget(50 * MiB);
    const started: string[] = [];
    const a = gate();
    const b = gate();
    const first = budget.run(30 * MiB, async () => (started.push('a'), a.opened));
    const big = budget.run(40 * MiB, async () => (started.push('big'), b.opened));
    const small = budget.run(10 * MiB, async () => started.push('small'));
    await tick();
    expect(started).toEqual(['a']); // small would fit, but must not overtake big
    a.open();
    await first;
    await tick();
    expect(started).toEqual(['a', 'big', 'small']);
    b.open();
    await Promise.all([big, small]);
  });

  it('runs a task larger than the whole budget alone instead of never', async () => {
    const budget = new ByteBudget(10 * MiB);
    const huge = gate();
    const order: string[] = [];
    const first = budget.run(64 * MiB, async () => (order.push('huge'), huge.opened));
    const next = budget.run(MiB, async () => order.push('next'));
    await tick();
    expect(order).toEqual(['huge']);
    huge.open();
    await Promise.all([first, next]);
    expect(order).toEqual(['huge', 'next']);
  });

  it('releases the bytes of a task that fails', async () => {
    const budget = new ByteBudget(10 * MiB);
    await expect(budget.run(8 * MiB, async () => Promise.reject(new Error('corrupt')))).rejects.toThrow('corrupt');
    expect(budget.bytesInUse).toBe(0);
    expect(await budget.run(8 * MiB, async () => 'ok')).toBe('ok');
  });
});
