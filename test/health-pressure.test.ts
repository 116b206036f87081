import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type MemoryPoint, PressureTracker, slope } from '../src/health/pressure.js';

const limits = { softLimitMb: 600, hardLimitMb: 900, trendWindowS: 3600, leakMbPerHour: 50 };

function point(minute: number, rssMb: number, heapAfterGcMb: number | null = 80): MemoryPoint {
  return { atMs: minute * 60_000, rssMb, heapAfterGcMb, heapUsedMb: 100, heapLimitMb: 4096 };
}

describe('slope', () => {
  it('fits a straight line and refuses too few points', () => {
    assert.equal(
      slope([
        { x: 0, y: 1 },
        { x: 1, y: 3 },
      ]),
      null,
    );
    assert.equal(
      slope([
        { x: 0, y: 1 },
        { x: 1, y: 3 },
        { x: 2, y: 5 },
      ]),
      2,
    );
    assert.equal(
      slope([
        { x: 1, y: 1 },
        { x: 1, y: 3 },
        { x: 1, y: 5 },
      ]),
      null,
    );
  });
});

describe('pressure tracker', () => {
  it('stays normal within limits, with a stride of 1', () => {
    const tracker = new PressureTracker(limits);
    const state = tracker.add(point(0, 300));
    assert.equal(state.level, 'normal');
    assert.equal(state.frameStride, 1);
  });

  it('sheds work above the soft limit and stops shedding only well below it', () => {
    const tracker = new PressureTracker(limits);
    assert.equal(tracker.add(point(0, 650)).level, 'soft');
    assert.ok(tracker.add(point(1, 650)).frameStride > 1);
    // Just under the soft limit is not enough: no flapping around the line.
    assert.equal(tracker.add(point(2, 590)).level, 'soft');
    assert.equal(tracker.add(point(3, 500)).level, 'normal');
  });

  it('reaches hard at the hard limit and stays there', () => {
    const tracker = new PressureTracker(limits);
    assert.equal(tracker.add(point(0, 950)).level, 'hard');
    assert.equal(tracker.add(point(1, 300)).level, 'hard');
  });

  it('treats a heap near the V8 limit as hard whatever the RSS', () => {
    const tracker = new PressureTracker(limits);
    const state = tracker.add({ ...point(0, 300), heapUsedMb: 3900, heapLimitMb: 4096 });
    assert.equal(state.level, 'hard');
    assert.match(state.reason, /heap/);
  });

  it('calls a sustained heap-after-gc growth over the full window a leak', () => {
    const tracker = new PressureTracker(limits);
    let state = tracker.add(point(0, 300, 80));
    // 2 MB a minute = 120 MB/h, but only a leak once the samples span the window.
    for (let minute = 1; minute <= 50; minute++) {
      state = tracker.add(point(minute, 300, 80 + minute * 2));
      assert.equal(state.level, 'normal', `minute ${minute}`);
    }
    for (let minute = 51; minute <= 60; minute++)
      state = tracker.add(point(minute, 300, 80 + minute * 2));
    assert.equal(state.level, 'leak');
    assert.ok((state.heapSlopeMbPerHour ?? 0) > 100);
  });

  it('does not call a flat heap with noise a leak', () => {
    const tracker = new PressureTracker(limits);
    let state = tracker.add(point(0, 300));
    for (let minute = 1; minute <= 120; minute++) {
      state = tracker.add(point(minute, 300 + (minute % 7), 80 + (minute % 5)));
    }
    assert.equal(state.level, 'normal');
    assert.ok(Math.abs(state.heapSlopeMbPerHour ?? 0) < 10);
  });

  it('forgets growth that left the window (model load at startup)', () => {
    const tracker = new PressureTracker(limits);
    tracker.add(point(0, 100));
    tracker.add(point(1, 400));
    let state = tracker.add(point(2, 400));
    for (let minute = 3; minute <= 130; minute++) state = tracker.add(point(minute, 400));
    assert.equal(state.level, 'normal');
    assert.equal(state.rssSlopeMbPerHour, 0);
  });
});
