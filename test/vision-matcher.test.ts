import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sealDescriptor } from '../src/privacy/crypto.js';
import { openDatabase } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { insertTemplate } from '../src/store/templates.js';
import { addUser } from '../src/store/users.js';
import { laplacianVariance } from '../src/vision/image.js';
import { descriptorDistance, Matcher } from '../src/vision/matcher.js';
import { type Point, poseFromLandmarks } from '../src/vision/pose.js';
import { tempDir } from './helpers.js';

/** A unit-length descriptor pointing along one axis, moved `offset` along another. */
function vector(axis: number, offset = 0, towards = 127): Float32Array {
  const v = new Float32Array(128);
  v[axis] = 1;
  v[towards] = offset;
  return v;
}

const settings = { threshold: 0.5, margin: 0.1 };

describe('matcher', () => {
  const matcher = new Matcher(
    [
      { userId: 1, userCode: 'ana', descriptor: vector(0) },
      { userId: 1, userCode: 'ana', descriptor: vector(1) },
      { userId: 2, userCode: 'ben', descriptor: vector(2) },
    ],
    settings,
  );

  it('matches the nearest user, using the best of their templates', () => {
    const result = matcher.match(vector(1, 0.3));
    assert.equal(result.userCode, 'ana');
    assert.equal(result.userId, 1);
    assert.ok(Math.abs(result.distance - 0.3) < 1e-6);
    assert.ok(Math.abs(result.margin - (Math.sqrt(2 + 0.09) - 0.3)) < 1e-6);
    assert.equal(matcher.size, 3);
    assert.equal(matcher.users, 2);
  });

  it('says unknown beyond the threshold, but still names the nearest user', () => {
    const result = matcher.match(vector(0, 0.6));
    assert.equal(result.userCode, null);
    assert.equal(result.nearestUserCode, 'ana');
  });

  it('says unknown when the next user is within the margin', () => {
    const between = new Float32Array(128);
    between[0] = 0.5;
    between[2] = 0.45;
    const close = new Matcher(
      [
        { userId: 1, userCode: 'ana', descriptor: vector(0) },
        { userId: 2, userCode: 'ben', descriptor: vector(2) },
      ],
      { threshold: 1, margin: 0.1 },
    );
    const result = close.match(between);
    assert.equal(result.nearestUserCode, 'ana');
    assert.ok(result.margin < 0.1);
    assert.equal(result.userCode, null);
  });

  it('has no match and an infinite distance with no templates', () => {
    const result = new Matcher([], settings).match(vector(0));
    assert.equal(result.userCode, null);
    assert.equal(result.distance, Number.POSITIVE_INFINITY);
  });

  it('leaves one user out for the duplicate check', () => {
    const others = matcher.without(1);
    assert.equal(others.size, 1);
    assert.equal(others.match(vector(0)).nearestUserCode, 'ben');
  });

  it('reads templates of active users through the privacy layer', () => {
    const db = openDatabase(tempDir());
    migrate(db);
    const ana = addUser(db, { code: 'ana', name: 'Ana' });
    const gone = addUser(db, { code: 'gone', name: 'Gone', active: false });
    insertTemplate(db, ana.id, sealDescriptor(vector(3), null), 'model-a', {});
    insertTemplate(db, ana.id, sealDescriptor(vector(4), null), 'model-b', {});
    insertTemplate(db, gone.id, sealDescriptor(vector(5), null), 'model-a', {});

    assert.equal(Matcher.fromStore(db, null, settings).size, 2);
    const onlyA = Matcher.fromStore(db, null, settings, 'model-a');
    assert.equal(onlyA.size, 1);
    assert.equal(onlyA.match(vector(3)).userCode, 'ana');
    db.close();
  });

  it('computes Euclidean distance', () => {
    assert.ok(Math.abs(descriptorDistance(vector(0), vector(1)) - Math.SQRT2) < 1e-6);
  });
});

describe('face measures', () => {
  it('gives a flat image no sharpness and a checkerboard a lot', () => {
    const flat = new Uint8Array(64 * 64).fill(120);
    assert.equal(laplacianVariance(flat, 64, 64), 0);
    const board = new Uint8Array(64 * 64).map((_, i) =>
      ((i % 64) + Math.floor(i / 64)) % 2 ? 255 : 0,
    );
    assert.ok(laplacianVariance(board, 64, 64) > 10_000);
  });

  /** 68 points of a frontal face, then turned by moving the nose and tilted by rotating. */
  function landmarks(noseShift: number, tiltDeg: number): Point[] {
    const points: Point[] = Array.from({ length: 68 }, () => ({ x: 50, y: 50 }));
    points[0] = { x: 0, y: 40 };
    points[16] = { x: 100, y: 40 };
    points[30] = { x: 50 + noseShift, y: 55 };
    for (let i = 36; i < 42; i++) points[i] = { x: 30, y: 40 };
    for (let i = 42; i < 48; i++) points[i] = { x: 70, y: 40 };
    const angle = (tiltDeg * Math.PI) / 180;
    return points.map(({ x, y }) => ({
      x: x * Math.cos(angle) - y * Math.sin(angle),
      y: x * Math.sin(angle) + y * Math.cos(angle),
    }));
  }

  it('reads a frontal face as no yaw and no roll', () => {
    const pose = poseFromLandmarks(landmarks(0, 0));
    assert.ok(Math.abs(pose.yaw) < 1e-6 && Math.abs(pose.roll) < 1e-6);
  });

  it('reads a turned head as yaw, and a tilted one as roll without yaw', () => {
    assert.ok(poseFromLandmarks(landmarks(25, 0)).yaw > 25);
    assert.ok(poseFromLandmarks(landmarks(-25, 0)).yaw < -25);
    const tilted = poseFromLandmarks(landmarks(0, 20));
    assert.ok(Math.abs(tilted.roll - 20) < 1e-6);
    assert.ok(Math.abs(tilted.yaw) < 1e-6);
  });
});
