// streamsearch 1.x ships no types.
declare module 'streamsearch' {
  type Callback = (isMatch: boolean, data: Buffer | undefined, start: number, end: number, isDataSafe: boolean) => void;
  export default class StreamSearch {
    constructor(needle: Buffer | string, callback: Callback);
    push(chunk: Buffer, pos?: number): number;
    reset(): void;
    destroy(): void;
    readonly matches: number;
  }
}
