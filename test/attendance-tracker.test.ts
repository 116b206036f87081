import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FaceTracker, iou, type Observation } from '../src/attendance/tracker.js';
import type { RgbImage } from '../src/camera/frame.js';
import { MotionGate } from '../src/camera/motion.js';

const box = (x: number, y = 100, width = 100) => ({ x, y, width, height: width });
const lin = { userId: 5, userCode: 'lin', distance: 0.4 };
const rose = { userId: 6, userCode: 'rose', distance: 0.45 };
const seen = (x: number, match: Observation['match'], described = true): Observation => ({
  box: box(x),
  described,
  match: described ? match : null,
});

describe('face tracker', () => {
  test('box overlap is intersection over union', () => {
    assert.equal(iou(box(0), box(0)), 1);
    assert.equal(iou(box(0), box(200)), 0);
    assert.ok(Math.abs(iou(box(0), box(50)) - 1 / 3) < 1e-9);
  });

  test('one frame never decides; min_frames consistent matches do, once', () => {
    const tracker = new FaceTracker({ minFrames: 3 });
    assert.deepEqual(tracker.update([seen(100, lin)], 0), []);
    assert.deepEqual(tracker.update([seen(105, lin)], 100), []);
    assert.equal(tracker.wantsFrames, true);
    const decisions = tracker.update([seen(110, lin)], 200);
    assert.equal(decisions.length, 1);
    const [decision] = decisions;
    assert.equal(decision?.kind, 'user');
    assert.equal(decision?.kind === 'user' && decision.userCode, 'lin');
    assert.equal(decision?.track.firstSeen, 0);
    assert.equal(tracker.wantsFrames, false);
    for (let i = 0; i < 10; i++) assert.deepEqual(tracker.update([seen(110, lin)], 300 + i), []);
    assert.equal(tracker.created, 1);
  });

  test('the vote needs a majority of the described frames', () => {
    const tracker = new FaceTracker({ minFrames: 3 });
    const sequence = [lin, rose, null, lin, rose, null];
    const decisions = sequence.flatMap((m, i) => tracker.update([seen(100 + i, m)], i));
    assert.deepEqual(decisions, []);
    assert.deepEqual(tracker.update([seen(100, lin)], 10), []);
    assert.deepEqual(tracker.update([seen(100, lin)], 11), []);
    const more = tracker.update([seen(100, lin)], 12);
    assert.equal(more.length, 1);
    assert.equal(more[0]?.kind === 'user' && more[0].userCode, 'lin');
  });

  test('a person walking up is decided on the close frames, not outvoted by the far ones', () => {
    const tracker = new FaceTracker({ minFrames: 3 });
    // Far away: described but not recognised, six times.
    for (let i = 0; i < 6; i++) assert.deepEqual(tracker.update([seen(100, null)], i), []);
    // Close: three matches are not yet a majority of the last six described frames...
    for (let i = 6; i < 9; i++) assert.deepEqual(tracker.update([seen(100, lin)], i), []);
    // ...four are.
    const decided = tracker.update([seen(100, lin)], 9);
    assert.equal(decided.length, 1);
    assert.equal(decided[0]?.kind === 'user' && decided[0].userCode, 'lin');
    assert.equal(tracker.created, 1);
  });

  test('someone taking the place of a decided face is recognised after min_frames matches', () => {
    const tracker = new FaceTracker({ minFrames: 3 });
    for (let i = 0; i < 3; i++) tracker.update([seen(100, lin)], i);
    // One stray match for someone else, then the first person again: nothing changes.
    assert.deepEqual(tracker.update([seen(100, rose)], 3), []);
    assert.deepEqual(tracker.update([seen(100, lin)], 4), []);
    assert.deepEqual(tracker.update([seen(100, rose)], 5), []);
    assert.deepEqual(tracker.update([seen(100, rose)], 6), []);
    const switched = tracker.update([seen(100, rose)], 7);
    assert.equal(switched.length, 1);
    assert.equal(switched[0]?.kind === 'user' && switched[0].userCode, 'rose');
    assert.equal(tracker.created, 1);
  });

  test('faces too small to describe are followed but never vote', () => {
    const tracker = new FaceTracker({ minFrames: 2 });
    for (let i = 0; i < 5; i++) assert.deepEqual(tracker.update([seen(100, lin, false)], i), []);
    assert.equal(tracker.update([seen(100, lin)], 5).length, 0);
    assert.equal(tracker.update([seen(100, lin)], 6).length, 1);
  });

  test('two faces keep two tracks; a face gone for long enough ends its track', () => {
    const tracker = new FaceTracker({ minFrames: 2, maxMissed: 2 });
    tracker.update([seen(0, lin), seen(400, null)], 0);
    tracker.update([seen(10, lin), seen(410, null)], 1);
    assert.equal(tracker.created, 2);
    tracker.update([seen(420, null)], 2);
    tracker.update([seen(430, null)], 3);
    const ended = tracker.update([seen(440, null)], 4);
    assert.equal(tracker.size, 1);
    assert.deepEqual(ended, []);
    const unknown = tracker.flush();
    assert.equal(unknown.length, 1);
    assert.equal(unknown[0]?.kind, 'unknown');
  });
});

function flat(value: number, width = 64, height = 48): RgbImage {
  return { width, height, data: Buffer.alloc(width * height * 3, value) };
}

describe('motion gate', () => {
  test('the first frame and a change of size count as motion', () => {
    const gate = new MotionGate(0.01);
    assert.equal(gate.moved(flat(10)), true);
    gate.accept();
    assert.equal(gate.moved(flat(10, 32, 24)), true);
  });

  test('sensor noise is not motion; a change in part of the picture is', () => {
    const gate = new MotionGate(0.01);
    gate.moved(flat(100));
    gate.accept();
    assert.equal(gate.moved(flat(110)), false);
    const changed = flat(100);
    changed.data.fill(250, 0, (changed.data.length / 4) | 0);
    assert.equal(gate.moved(changed), true);
  });

  test('a slow change adds up against the last analysed frame', () => {
    const gate = new MotionGate(0.01);
    gate.moved(flat(100));
    gate.accept();
    assert.equal(gate.moved(flat(115)), false);
    assert.equal(gate.moved(flat(130)), true);
  });
});
