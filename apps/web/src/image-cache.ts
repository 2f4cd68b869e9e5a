/**
 * Image PNGs need the Authorization header, so they are fetched, kept as blob URLs and shared
 * by every view. A few at a time: fifty full-size radiographs must not starve the API calls.
 */
export class ImageCache {
  private readonly urls = new Map<string, Promise<string>>();
  private readonly waiting: (() => void)[] = [];
  private running = 0;

  constructor(
    private readonly load: (url: string) => Promise<Blob>,
    private readonly maxParallel = 6,
  ) {}

  /** A blob URL of the image at `url`, downloaded once. */
  get(url: string): Promise<string> {
    let objectUrl = this.urls.get(url);
    if (!objectUrl) {
      objectUrl = this.limited(() => this.load(url)).then((blob) => URL.createObjectURL(blob));
      // A failed download is forgotten so that the next render tries again.
      objectUrl.catch(() => this.urls.delete(url));
      this.urls.set(url, objectUrl);
    }
    return objectUrl;
  }

  /** Frees every blob (on sign-out). */
  clear(): void {
    for (const objectUrl of this.urls.values()) objectUrl.then(URL.revokeObjectURL, () => undefined);
    this.urls.clear();
  }

  private async limited<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxParallel) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
