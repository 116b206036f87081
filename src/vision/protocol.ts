/** Messages between the engine (main thread) and the inference worker. */

export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface DetectedFace {
  box: FaceBox;
  score: number;
  /** The 128-d descriptor; null when the face is below minFacePx and was not described. */
  descriptor: Float32Array | null;
  /** Head pose in degrees, estimated from the 68 landmarks. */
  pose: { yaw: number; roll: number };
}

export interface LoadSettings {
  backend: 'auto' | 'node' | 'wasm' | 'cpu';
  detector: 'tiny' | 'ssd';
  inputSize: number;
  minScore: number;
  modelsDir: string;
  /** Folder holding the .wasm files of @tensorflow/tfjs-backend-wasm, ending in a slash. */
  wasmDir: string;
}

export interface WorkerLoadResult {
  backend: string;
  simd: boolean;
  threads: boolean;
  models: { name: string; file: string; sha256: string }[];
  loadMs: number;
}

export interface AnalyzeRequest {
  width: number;
  height: number;
  data: Uint8Array;
  minFacePx: number;
  describe: boolean;
}

export interface TensorStats {
  numTensors: number;
  numBytes: number;
  wasmBytes?: number;
}

export type WorkerRequest =
  | { id: number; type: 'load'; settings: LoadSettings }
  | { id: number; type: 'analyze'; request: AnalyzeRequest }
  | { id: number; type: 'stats' };

export type WorkerMessage =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string }
  | { type: 'progress'; step: number; total: number; name: string }
  | { type: 'output'; text: string };
