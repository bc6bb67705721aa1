/*
 * Buffers items (SSE events) and hands them over in batches: once per animation frame while the
 * page is visible, and at most every `maxDelayMs` otherwise (requestAnimationFrame does not run
 * in a background tab; a timer does, throttled, so the buffer cannot grow without bound). One
 * flush applies everything buffered, however many events arrived since the last one.
 */

export interface Scheduler {
  raf?: (cb: () => void) => number;
  cancelRaf?: (id: number) => void;
  setTimeout: (cb: () => void, ms: number) => unknown;
  clearTimeout: (id: unknown) => void;
}

export function defaultScheduler(): Scheduler {
  const g = globalThis as typeof globalThis & {
    requestAnimationFrame?: (cb: FrameRequestCallback) => number;
    cancelAnimationFrame?: (id: number) => void;
  };
  return {
    raf: g.requestAnimationFrame ? (cb) => g.requestAnimationFrame!(() => cb()) : undefined,
    cancelRaf: g.cancelAnimationFrame ? (id) => g.cancelAnimationFrame!(id) : undefined,
    setTimeout: (cb, ms) => globalThis.setTimeout(cb, ms),
    clearTimeout: (id) => globalThis.clearTimeout(id as ReturnType<typeof setTimeout>),
  };
}

export class EventBatcher<T> {
  private buf: T[] = [];
  private rafId: number | null = null;
  private timer: unknown = null;
  private closed = false;
  /** batches handed over so far */
  flushes = 0;

  constructor(
    private readonly onBatch: (items: T[]) => void,
    private readonly maxDelayMs = 200,
    private readonly sched: Scheduler = defaultScheduler(),
  ) {}

  get pending(): number {
    return this.buf.length;
  }

  push(item: T): void {
    if (this.closed) return;
    this.buf.push(item);
    this.schedule();
  }

  private schedule(): void {
    if (this.rafId === null && this.sched.raf) this.rafId = this.sched.raf(() => this.flush());
    if (this.timer === null) this.timer = this.sched.setTimeout(() => this.flush(), this.maxDelayMs);
  }

  /** Hands over what is buffered now (also called by the frame and the timer). */
  flush(): void {
    if (this.rafId !== null) {
      this.sched.cancelRaf?.(this.rafId);
      this.rafId = null;
    }
    if (this.timer !== null) {
      this.sched.clearTimeout(this.timer);
      this.timer = null;
    }
    if (!this.buf.length) return;
    const items = this.buf;
    this.buf = [];
    this.flushes++;
    this.onBatch(items);
  }

  /** Flushes what is left and stops taking items. */
  close(flush = true): void {
    if (flush) this.flush();
    else {
      this.buf = [];
      if (this.rafId !== null) this.sched.cancelRaf?.(this.rafId);
      if (this.timer !== null) this.sched.clearTimeout(this.timer);
      this.rafId = null;
      this.timer = null;
    }
    this.closed = true;
  }
}
