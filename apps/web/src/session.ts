/** The API key lives in sessionStorage: it survives a reload but not closing the tab. */
const KEY = 'xray.apiKey';

export const session = {
  get: (): string | null => sessionStorage.getItem(KEY),
  set: (apiKey: string): void => sessionStorage.setItem(KEY, apiKey),
  clear: (): void => sessionStorage.removeItem(KEY),
};
