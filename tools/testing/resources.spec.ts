import { startedTogether } from './resources';

describe('startedTogether', () => {
  it('gives every value when all start', async () => {
    await expect(startedTogether([Promise.resolve(1), Promise.resolve('two')])).resolves.toEqual([1, 'two']);
  });

  it('stops the services that did start when one fails, then throws its error', async () => {
    const stopped: string[] = [];
    const service = (name: string) => ({ stop: async () => void stopped.push(name) });
    const browser = { close: async () => void stopped.push('browser') };
    await expect(
      startedTogether([
        Promise.resolve(service('orthanc')),
        Promise.reject(new Error('no gateway')),
        Promise.resolve(browser),
      ]),
    ).rejects.toThrow('no gateway');
    expect(stopped.sort()).toEqual(['browser', 'orthanc']);
  });
});
