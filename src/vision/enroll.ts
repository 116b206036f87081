import { basename } from 'node:path';
import type { RgbImage } from '../camera/frame.js';
import { PresenteError } from '../errors.js';
import { sealDescriptor, type TemplateKey } from '../privacy/crypto.js';
import type { Db } from '../store/db.js';
import { insertTemplate, type TemplateQuality } from '../store/templates.js';
import { findUser } from '../store/users.js';
import type { DetectedFace, VisionConfig, VisionEngine } from './engine.js';
import { decodeImageFile, faceSharpness, ImageError, imageLimits } from './image.js';
import { Matcher } from './matcher.js';

export interface EnrollOptions {
  /** Several faces in a photo: take the largest instead of refusing. */
  largest?: boolean;
  /** Enroll even when the face already matches another user. */
  force?: boolean;
  /** Told before each photo is assessed (progress for a person watching). */
  onPhoto?: (index: number, total: number, file: string) => void;
}

export interface AcceptedPhoto {
  file: string;
  descriptor: Float32Array;
  quality: Required<TemplateQuality>;
}

export interface Refusal {
  file: string;
  reason: string;
}

export interface EnrollResult {
  user: string;
  modelId: string;
  templates: { id: number; file: string; quality: Required<TemplateQuality> }[];
}

/** The side of a face used by every size rule: the larger side of the detector's box. */
export function faceSize(face: DetectedFace): number {
  return Math.max(face.box.width, face.box.height);
}

const round = (value: number, digits = 1) => Number(value.toFixed(digits));

/**
 * Checks one photo against the enrollment gates, in order: decodable, exactly one face (or
 * the largest with `largest`), size, detection score, sharpness, yaw and roll. Returns the
 * accepted face or the first reason it was refused.
 */
export async function assessPhoto(
  engine: VisionEngine,
  vision: VisionConfig,
  file: string,
  options: EnrollOptions = {},
): Promise<AcceptedPhoto | Refusal> {
  let image: RgbImage;
  try {
    image = await decodeImageFile(file, imageLimits(vision));
  } catch (err) {
    if (err instanceof ImageError) return { file, reason: err.reason };
    throw err;
  }

  const faces = await engine.analyze(image, { minFacePx: 0 });
  if (faces.length === 0) return { file, reason: 'no face found' };
  if (faces.length > 1 && !options.largest) {
    return { file, reason: `${faces.length} faces found; use --largest to take the largest` };
  }
  const face = faces.reduce((a, b) => (faceSize(b) > faceSize(a) ? b : a));

  const size = faceSize(face);
  const sharpness = await faceSharpness(image, face.box);
  const { yaw, roll } = face.pose;
  const quality = {
    score: round(face.score, 3),
    faceWidth: Math.round(size),
    sharpness: round(sharpness),
    yaw: round(yaw),
    roll: round(roll),
  };

  const refusal = gateReason(vision, quality);
  if (refusal) return { file, reason: refusal };
  if (!face.descriptor) return { file, reason: 'the face could not be described' };
  return { file, descriptor: face.descriptor, quality };
}

type VisionKey = keyof VisionConfig & `enroll_${string}`;

/** The quality gates in order: a photo is refused by the first whose limit it misses. */
const GATES: {
  key: VisionKey;
  refuses: (q: Required<TemplateQuality>, limit: number) => boolean;
  says: (q: Required<TemplateQuality>) => string;
}[] = [
  {
    key: 'enroll_min_face_px',
    refuses: (q, limit) => q.faceWidth < limit,
    says: (q) => `face is ${q.faceWidth} px, smaller than`,
  },
  {
    key: 'enroll_min_score',
    refuses: (q, limit) => q.score < limit,
    says: (q) => `detection score ${q.score} is below`,
  },
  {
    key: 'enroll_min_sharpness',
    refuses: (q, limit) => q.sharpness < limit,
    says: (q) => `face is blurred: sharpness ${q.sharpness} is below`,
  },
  {
    key: 'enroll_max_yaw_deg',
    refuses: (q, limit) => Math.abs(q.yaw) > limit,
    says: (q) => `head turned ${Math.abs(q.yaw)}°, more than`,
  },
  {
    key: 'enroll_max_roll_deg',
    refuses: (q, limit) => Math.abs(q.roll) > limit,
    says: (q) => `head tilted ${Math.abs(q.roll)}°, more than`,
  },
];

function gateReason(vision: VisionConfig, q: Required<TemplateQuality>): string | null {
  for (const gate of GATES) {
    const limit = vision[gate.key] as number;
    if (gate.refuses(q, limit)) return `${gate.says(q)} vision.${gate.key} (${limit})`;
  }
  return null;
}

/**
 * Enrolls photos of one user: every photo passes the gates and the duplicate check, then all
 * templates are written in one transaction. One refused photo refuses the whole command, so
 * nothing is half enrolled; the error lists every photo with its reason.
 */
export async function enrollUser(
  db: Db,
  engine: VisionEngine,
  vision: VisionConfig,
  key: TemplateKey | null,
  userCode: string,
  files: string[],
  options: EnrollOptions = {},
): Promise<EnrollResult> {
  const user = findUser(db, userCode);
  if (!user) throw new PresenteError(`user '${userCode}' does not exist (add it with users add)`);
  const { modelId } = await engine.load();

  const others = Matcher.fromStore(db, key, undefined, modelId).without(user.id);
  const accepted: AcceptedPhoto[] = [];
  const refusals: Refusal[] = [];
  for (const [index, file] of files.entries()) {
    options.onPhoto?.(index, files.length, file);
    const result = await assessPhoto(engine, vision, file, options);
    if ('reason' in result) {
      refusals.push(result);
      continue;
    }
    const nearest = others.match(result.descriptor);
    if (!options.force && nearest.distance <= vision.match_threshold) {
      refusals.push({
        file,
        reason:
          `the face matches user '${nearest.nearestUserCode}' (distance ` +
          `${nearest.distance.toFixed(3)} <= vision.match_threshold ${vision.match_threshold}); ` +
          'use --force if they are different people',
      });
      continue;
    }
    accepted.push(result);
  }

  if (refusals.length > 0) {
    const lines = refusals.map((r) => `  ${basename(r.file)}: ${r.reason}`);
    throw new PresenteError(
      `nothing enrolled for '${userCode}'; refused:\n${lines.join('\n')}`,
      undefined,
    );
  }

  const templates = db.transaction(() =>
    accepted.map((photo) => ({
      id: insertTemplate(
        db,
        user.id,
        sealDescriptor(photo.descriptor, key),
        modelId,
        photo.quality,
      ),
      file: photo.file,
      quality: photo.quality,
    })),
  )();
  return { user: userCode, modelId, templates };
}
