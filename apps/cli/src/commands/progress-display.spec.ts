import { progressDisplay } from './progress-display';

describe('progress display without a terminal', () => {
  const isTTY = process.stderr.isTTY;
  beforeAll(() => {
    process.stderr.isTTY = false;
    jest.useFakeTimers({ now: 0 });
  });
  afterAll(() => {
    process.stderr.isTTY = isTTY;
    jest.useRealTimers();
  });

  it('prints a line every 5 % with an ETA measured from its own first update, not from its creation', () => {
    const lines: string[] = [];
    const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => lines.push(String(chunk)) > 0);
    try {
      const display = progressDisplay('fine-tuning'); // created at t = 0, like every display of `xray train`
      jest.setSystemTime(100_000); // features and head training ran first
      display.update(1, 100);
      jest.setSystemTime(101_000);
      display.update(3, 100); // under 5 % since the last line: silent
      display.update(6, 100, 'epoch 1');
      expect(lines).toEqual(['fine-tuning 6/100 6% ETA 19s epoch 1\n']); // 5 steps in 1 s, 94 to go
    } finally {
      write.mockRestore();
    }
  });
});
