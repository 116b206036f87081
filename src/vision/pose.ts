export interface Point {
  x: number;
  y: number;
}

const DEG = 180 / Math.PI;

function mean(points: Point[]): Point {
  const sum = points.reduce((acc, p) => ({ x: acc.x + p.x, y: acc.y + p.y }), { x: 0, y: 0 });
  return { x: sum.x / points.length, y: sum.y / points.length };
}

/**
 * Head pose in degrees from the 68 landmarks (iBUG layout). Roll is the tilt of the line
 * through the eye centres. Yaw compares the nose tip's distance to either side of the jaw,
 * measured along the eye line so a tilted head does not read as a turned one; it is an
 * estimate, good enough to refuse a profile at enrollment, not a calibrated angle.
 */
export function poseFromLandmarks(points: Point[]): { yaw: number; roll: number } {
  if (points.length < 68) return { yaw: 0, roll: 0 };

  const leftEye = mean(points.slice(36, 42));
  const rightEye = mean(points.slice(42, 48));
  const angle = Math.atan2(rightEye.y - leftEye.y, rightEye.x - leftEye.x);
  const axis = { x: Math.cos(angle), y: Math.sin(angle) };
  const along = (p: Point) => p.x * axis.x + p.y * axis.y;

  const nose = along(points[30]!);
  const toLeft = nose - along(points[0]!);
  const toRight = along(points[16]!) - nose;
  const span = toLeft + toRight;
  const ratio = span > 0 ? Math.max(-1, Math.min(1, (toLeft - toRight) / span)) : 0;

  return { yaw: Math.asin(ratio) * DEG, roll: angle * DEG };
}
