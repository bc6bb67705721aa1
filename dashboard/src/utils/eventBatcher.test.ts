import { describe, expect, it, vi } from 'vitest';
import { EventBatcher, type Scheduler } from './eventBatcher';

function fakeScheduler(withRaf: boolean) {
  const frames = new Map<number, () => void>();
  const timers = new Map<number, () => void>();
  let id = 0;
  const sched: Scheduler = {
    raf: withRaf
      ? (cb) => {
          frames.set(++id, cb);
          return id;
        }
      : undefined,
    cancelRaf: (i) => frames.delete(i),
    setTimeout: (cb) => {
      timers.set(++id, cb);
      return id;
    },
    clearTimeout: (i) => timers.delete(i as number),
  };
  const run = (m: Map<number, () => void>) => {
    const cbs = [...m.values()];
    m.clear();
    cbs.forEach((f) => f());
  };
  return { sched, frame: () => run(frames), tick: () => run(timers), frames, timers };
}

describe('EventBatcher', () => {
  it('hands over everything buffered once per frame', () => {
    const f = fakeScheduler(true);
    const onBatch = vi.fn();
    const b = new EventBatcher<number>(onBatch, 200, f.sched);
    for (let i = 0; i < 1000; i++) b.push(i);
    expect(onBatch).not.toHaveBeenCalled();
    expect(f.frames.size).toBe(1); // one frame asked for, not 1000
    f.frame();
    expect(onBatch).toHaveBeenCalledTimes(1);
    expect(onBatch.mock.calls[0][0]).toHaveLength(1000);
    expect(f.timers.size).toBe(0); // the backup timer was cancelled
    b.push(1);
    f.frame();
    expect(onBatch).toHaveBeenCalledTimes(2);
  });

  it('falls back to the timer when frames do not run (a background tab)', () => {
    const f = fakeScheduler(true);
    const onBatch = vi.fn();
    const b = new EventBatcher<number>(onBatch, 200, f.sched);
    b.push(1);
    b.push(2);
    f.tick(); // the frame never came
    expect(onBatch).toHaveBeenCalledWith([1, 2]);
    expect(f.frames.size).toBe(0);
  });

  it('works without requestAnimationFrame', () => {
    const f = fakeScheduler(false);
    const onBatch = vi.fn();
    const b = new EventBatcher<number>(onBatch, 100, f.sched);
    b.push(1);
    f.tick();
    expect(onBatch).toHaveBeenCalledWith([1]);
  });

  it('close() flushes the rest (or drops it) and takes nothing more', () => {
    const f = fakeScheduler(true);
    const onBatch = vi.fn();
    const b = new EventBatcher<number>(onBatch, 100, f.sched);
    b.push(1);
    b.close();
    expect(onBatch).toHaveBeenCalledWith([1]);
    b.push(2);
    expect(b.pending).toBe(0);
    const b2 = new EventBatcher<number>(onBatch, 100, f.sched);
    b2.push(3);
    b2.close(false);
    f.frame();
    f.tick();
    expect(onBatch).toHaveBeenCalledTimes(1);
  });
});
