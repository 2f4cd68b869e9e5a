import { SingleBar } from 'cli-progress';

/** A progress display: a cli-progress bar on a terminal, otherwise a plain line every few percent. */
export function progressDisplay(title: string): {
  update(done: number, total: number, detail?: string): void;
  stop(): void;
} {
  if (process.stderr.isTTY) {
    const bar = new SingleBar({
      format: `${title} [{bar}] {value}/{total} {percentage}% ETA {eta_formatted} {detail}`,
      stream: process.stderr,
      etaBuffer: 50,
    });
    let started = false;
    return {
      update(done, total, detail = '') {
        if (!started) bar.start(total, 0, { detail });
        started = true;
        bar.setTotal(total);
        bar.update(done, { detail });
      },
      stop: () => started && bar.stop(),
    };
  }
  let start: { at: number; done: number } | undefined; // the first update: a display may be created long before its phase starts
  let lastPercent = -1;
  return {
    update(done, total, detail = '') {
      start ??= { at: Date.now(), done };
      const percent = Math.floor((100 * done) / Math.max(1, total));
      if (percent < lastPercent + 5 && done < total) return;
      lastPercent = percent;
      const eta = done > start.done ? (((Date.now() - start.at) / (done - start.done)) * (total - done)) / 1000 : NaN;
      process.stderr.write(
        `${title} ${done}/${total} ${percent}% ETA ${Number.isFinite(eta) ? `${eta.toFixed(0)}s` : '?'} ${detail}\n`,
      );
    },
    stop: () => undefined,
  };
}
