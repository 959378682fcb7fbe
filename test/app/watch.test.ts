// The batching of watch mode: file events settle into one reconcile after the debounce, one
// reconcile runs at a time, events during a run make exactly one next batch, resync ticks
// never pile up. Fake timers; the clock is Date.now (faked too).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Batcher, isCold, type Batch } from '../../src/app/watch.js';
import type { Action } from '../../src/plan/types.js';

function setup(opts: { debounceMs?: number; maxWaitMs?: number; runMs?: number } = {}) {
  const runs: Batch[] = [];
  let done = 0;
  const b = new Batcher({
    debounceMs: opts.debounceMs ?? 100,
    ...(opts.maxWaitMs !== undefined ? { maxWaitMs: opts.maxWaitMs } : {}),
    now: () => Date.now(),
    run: async (batch) => {
      runs.push(batch);
      await new Promise((r) => setTimeout(r, opts.runMs ?? 0));
      done++;
    },
  });
  return { b, runs, done: () => done };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Batcher', () => {
  it('runs one batch for a burst, after the debounce counted from the last event', async () => {
    const { b, runs } = setup();
    for (let i = 0; i < 10; i++) {
      b.change(`/z/${String(9 - i).padStart(2, '0')}.yaml`);
      await vi.advanceTimersByTimeAsync(20);
    }
    expect(runs).toHaveLength(0); // events from 0 to 180 ms, never 100 ms quiet; now 200 ms
    await vi.advanceTimersByTimeAsync(79);
    expect(runs).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toEqual([{ trigger: 'change', files: Array.from({ length: 10 }, (_, i) => `/z/${String(i).padStart(2, '0')}.yaml`), since: 0 }]);
  });

  it('names each file once, and counts latency from the first event of the batch', async () => {
    const { b, runs } = setup({ debounceMs: 50 });
    await vi.advanceTimersByTimeAsync(1000);
    b.change('/z/a.yaml');
    await vi.advanceTimersByTimeAsync(10);
    b.change('/z/a.yaml');
    b.change('/z/.env');
    await vi.advanceTimersByTimeAsync(50);
    expect(runs).toEqual([{ trigger: 'change', files: ['/z/.env', '/z/a.yaml'], since: 1000 }]);
  });

  it('runs a batch at the latest maxWait after its first event, even if events keep coming', async () => {
    const { b, runs } = setup({ debounceMs: 100, maxWaitMs: 500 });
    for (let t = 0; t < 700; t += 50) {
      b.change('/z/a.yaml');
      await vi.advanceTimersByTimeAsync(50);
    }
    expect(runs.map((r) => r.since)).toEqual([0]);
    await vi.advanceTimersByTimeAsync(100);
    expect(runs.map((r) => r.since)).toEqual([0, 500]);
  });

  it('never runs two batches at once: events during a run make one next batch', async () => {
    const { b, runs, done } = setup({ runMs: 1000 });
    b.start();
    await vi.advanceTimersByTimeAsync(1);
    expect(runs.map((r) => r.trigger)).toEqual(['start']);
    b.change('/z/a.yaml');
    await vi.advanceTimersByTimeAsync(200);
    b.change('/z/b.yaml');
    await vi.advanceTimersByTimeAsync(200);
    b.resync(); // dropped: a change is waiting, and its reconcile observes the host anyway
    expect(runs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(600);
    expect(done()).toBe(1);
    expect(runs.slice(1)).toEqual([{ trigger: 'change', files: ['/z/a.yaml', '/z/b.yaml'], since: 1 }]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(done()).toBe(2);
    expect(runs).toHaveLength(2);
  });

  it('a resync runs when nothing else is pending, and ticks do not pile up behind a long run', async () => {
    const { b, runs } = setup({ runMs: 5000 });
    b.resync();
    await vi.advanceTimersByTimeAsync(1);
    b.resync();
    b.resync();
    b.resync();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(runs.map((r) => r.trigger)).toEqual(['resync', 'resync']);
  });

  it('a resync waiting behind a run gives way to a change batch (latency from the change)', async () => {
    const { b, runs } = setup({ runMs: 1000 });
    b.start();
    await vi.advanceTimersByTimeAsync(10);
    b.resync();
    b.change('/z/a.yaml');
    await vi.advanceTimersByTimeAsync(100);
    await vi.advanceTimersByTimeAsync(2000);
    expect(runs.map((r) => [r.trigger, r.since])).toEqual([['start', 0], ['change', 10]]);
  });

  it('close drops what has not started and waits for the run under way', async () => {
    const { b, runs, done } = setup({ runMs: 300 });
    b.start();
    await vi.advanceTimersByTimeAsync(1);
    b.change('/z/a.yaml');
    let closed = false;
    void b.close().then(() => (closed = true));
    await vi.advanceTimersByTimeAsync(100);
    expect(closed).toBe(false);
    await vi.advanceTimersByTimeAsync(300);
    expect(closed).toBe(true);
    expect(done()).toBe(1);
    b.change('/z/b.yaml');
    b.resync();
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs.map((r) => r.trigger)).toEqual(['start']);
  });
});

describe('isCold (what --hot-only holds back)', () => {
  const base = { resource: 'zone' as const, name: 'web', id: 'zone.web', cause: 'x', after_actions: [] };
  it('holds replacements forced by a field and deletions; applies updates, creations and restarts of dead zones', () => {
    expect(isCold({ ...base, kind: 'delete' } as Action)).toBe(true);
    expect(isCold({ ...base, kind: 'replace', changes: [], replace_paths: ['command'] } as unknown as Action)).toBe(true);
    expect(isCold({ ...base, kind: 'replace', changes: [], replace_paths: [] } as unknown as Action)).toBe(false);
    expect(isCold({ ...base, kind: 'update', changes: [] } as unknown as Action)).toBe(false);
    expect(isCold({ ...base, kind: 'create' } as unknown as Action)).toBe(false);
  });
});
