import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { PresenteError } from '../errors.js';
import { modelsSumsDir } from '../paths.js';

/** The face-api networks presente loads; the detector is one of the first two. */
export const MODEL_NAMES = {
  tiny: 'tiny_face_detector_model',
  ssd: 'ssd_mobilenetv1_model',
  landmarks: 'face_landmark_68_model',
  recognition: 'face_recognition_model',
} as const;

export type Detector = 'tiny' | 'ssd';

export const SUMS_FILE = 'SHA256SUMS';

const require = createRequire(import.meta.url);

/** The folder of the models bundled with @vladmandic/face-api. */
export function bundledModelsDir(): string {
  return join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
}

export function faceApiVersion(): string {
  return (require('@vladmandic/face-api/package.json') as { version: string }).version;
}

export function tfjsVersion(): string {
  return (require('@tensorflow/tfjs-core/package.json') as { version: string }).version;
}

/** The models folder from vision.models_dir, or the bundled one when it is empty. */
export function resolveModelsDir(modelsDir: string): string {
  return modelsDir ? resolve(modelsDir) : bundledModelsDir();
}

/** The networks one engine needs: the configured detector, landmarks and recognition. */
export function modelsFor(detector: Detector): string[] {
  return [MODEL_NAMES[detector], MODEL_NAMES.landmarks, MODEL_NAMES.recognition];
}

/**
 * Reads the checksums: a custom models folder may carry its own SHA256SUMS; otherwise the
 * sums kept in the package's models/ folder apply.
 */
export function readSums(dir: string): { file: string; sums: Map<string, string> } {
  const own = join(dir, SUMS_FILE);
  const file = existsSync(own) ? own : join(modelsSumsDir, SUMS_FILE);
  if (!existsSync(file)) throw new PresenteError(`model checksums not found: ${file}`);

  const sums = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([0-9a-f]{64})\s+\*?(\S+)\s*$/i.exec(line.trim());
    if (match) sums.set(match[2]!, match[1]!.toLowerCase());
  }
  return { file, sums };
}

export interface VerifiedFile {
  file: string;
  path: string;
  sha256: string;
  bytes: Buffer;
}

export interface VerifiedModel {
  name: string;
  /** The weights manifest, as the TensorFlow.js weights loader takes it. */
  manifest: unknown;
  manifestFile: VerifiedFile;
  weightFiles: VerifiedFile[];
}

function readVerified(dir: string, file: string, sums: Map<string, string>, sumsFile: string) {
  const path = join(dir, file);
  if (!existsSync(path)) throw new PresenteError(`model file missing: ${path}`);

  const expected = sums.get(file);
  if (!expected) throw new PresenteError(`model file ${path} has no checksum in ${sumsFile}`);

  const bytes = readFileSync(path);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== expected) {
    throw new PresenteError(
      `model file ${path} does not match its checksum in ${sumsFile} ` +
        `(expected ${expected}, got ${sha256}); reinstall the package or fix the file`,
    );
  }
  return { file, path, sha256, bytes };
}

/**
 * Reads one network's manifest and weight files and checks each against its sha256 sum
 * before anything is handed to TensorFlow.js. A missing file or a mismatch names the file.
 */
export function verifyModel(dir: string, name: string): VerifiedModel {
  const { file: sumsFile, sums } = readSums(dir);
  const manifestFile = readVerified(dir, `${name}-weights_manifest.json`, sums, sumsFile);

  let manifest: { paths: string[] }[];
  try {
    manifest = JSON.parse(manifestFile.bytes.toString('utf8'));
  } catch (err) {
    throw new PresenteError(`model manifest ${manifestFile.path} is not valid JSON`, undefined, {
      cause: err,
    });
  }

  const weightFiles = manifest
    .flatMap((group) => group.paths)
    .map((file) => readVerified(dir, file, sums, sumsFile));
  return { name, manifest, manifestFile, weightFiles };
}

/** Model identity stored with each template: descriptors only compare within one model. */
export function modelIdFrom(recognitionWeightsSha: string): string {
  return `face-api-${faceApiVersion()}/recognition-${recognitionWeightsSha.slice(0, 12)}`;
}
