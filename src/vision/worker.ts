import { parentPort } from 'node:worker_threads';
import type * as FaceApi from '@vladmandic/face-api/dist/face-api.node-wasm.js';
import { MODEL_NAMES, modelsFor, resolveModelsDir, verifyModel } from './models.js';
import { poseFromLandmarks } from './pose.js';
import type {
  AnalyzeRequest,
  DetectedFace,
  LoadSettings,
  TensorStats,
  WorkerLoadResult,
  WorkerMessage,
  WorkerRequest,
} from './protocol.js';

/**
 * The inference worker. It owns the one TensorFlow.js runtime and the one set of face-api
 * networks in the process, so the main thread (MQTT, heartbeats, /health, the watchdog)
 * never waits behind a frame and never holds a model.
 */

type Api = typeof FaceApi;

interface Tensor {
  dispose(): void;
}

/** The part of the TensorFlow.js namespace this worker uses, typed locally. */
interface Tf {
  tensor3d(values: Uint8Array, shape: [number, number, number], dtype: 'int32'): Tensor;
  memory(): { numTensors: number; numBytes: number };
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  backend(): unknown;
  env(): { getAsync(flag: string): Promise<unknown>; set(flag: string, value: unknown): void };
  setWasmPaths?(prefix: string): void;
  io: {
    weightsLoaderFactory(
      fetchWeights: (paths: string[]) => Promise<ArrayBuffer[]>,
    ): (manifest: unknown, baseUri: string) => Promise<unknown>;
  };
}

interface Loaded {
  api: Api;
  tf: Tf;
  detectorOptions: FaceApi.TinyFaceDetectorOptions | FaceApi.SsdMobilenetv1Options;
}

let loaded: Loaded | undefined;

const port = parentPort;
if (!port) throw new Error('the vision worker must run in a worker thread');

function post(message: WorkerMessage): void {
  port!.postMessage(message);
}

// Libraries print banners and warnings with console; in a worker those would land on the
// process's stdout and spoil a command's --json output, so they go to the engine's log.
for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  console[level] = (...args: unknown[]) => post({ type: 'output', text: args.join(' ') });
}

function asArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** tfjs-node when asked for (or found, with auto); otherwise the WASM build of face-api. */
async function importRuntime(settings: LoadSettings): Promise<{ api: Api; native: boolean }> {
  if (settings.backend === 'auto' || settings.backend === 'node') {
    // A variable specifier: tfjs-node is optional and usually absent, so nothing may
    // resolve it at build time.
    const nodeBinding = '@tensorflow/tfjs-node';
    try {
      await import(nodeBinding);
      const api = (await import('@vladmandic/face-api/dist/face-api.node.js')) as unknown as Api;
      return { api: unwrap(api), native: true };
    } catch (err) {
      const reason = (err as Error).message.split('\n')[0];
      if (settings.backend === 'auto') console.debug(`tfjs-node not available (${reason})`);
      if (settings.backend === 'node') {
        throw new Error(
          `vision.backend is 'node' but @tensorflow/tfjs-node cannot be loaded ` +
            `(${reason}); install it or use 'auto'`,
        );
      }
    }
  }
  const api = (await import('@vladmandic/face-api/dist/face-api.node-wasm.js')) as unknown as Api;
  return { api: unwrap(api), native: false };
}

/** The bundles are CommonJS: the namespace may hold the exports under `default`. */
function unwrap(api: Api): Api {
  const withDefault = api as Api & { default?: Api };
  return withDefault.nets ? api : (withDefault.default ?? api);
}

async function chooseBackend(tf: Tf, settings: LoadSettings, native: boolean): Promise<void> {
  if (native) {
    await tf.setBackend('tensorflow');
  } else if (settings.backend === 'cpu') {
    await tf.setBackend('cpu');
  } else {
    // The .wasm files come from node_modules, never from a CDN.
    if (!tf.setWasmPaths) throw new Error('this TensorFlow.js build has no WASM backend');
    tf.setWasmPaths(settings.wasmDir);
    // Threaded WASM needs its own worker script that Node cannot start from here.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    await tf.setBackend('wasm');
  }
  await tf.ready();
}

async function load(settings: LoadSettings): Promise<WorkerLoadResult> {
  if (loaded) throw new Error('models are already loaded in this worker');
  const started = performance.now();

  // Every file is checked before TensorFlow.js starts, so a bad file fails fast.
  const dir = resolveModelsDir(settings.modelsDir);
  const names = modelsFor(settings.detector);
  const verifiedModels = names.map((name) => verifyModel(dir, name));

  const { api, native } = await importRuntime(settings);
  const tf = api.tf as unknown as Tf;
  await chooseBackend(tf, settings, native);

  const models: WorkerLoadResult['models'] = [];
  for (const [index, verified] of verifiedModels.entries()) {
    const name = verified.name;
    post({ type: 'progress', step: index + 1, total: names.length, name });
    const buffers = new Map(verified.weightFiles.map((f) => [f.file, asArrayBuffer(f.bytes)]));
    const loadWeights = tf.io.weightsLoaderFactory(async (paths) =>
      paths.map((path) => buffers.get(path.replace(/^.*\//, '')) ?? new ArrayBuffer(0)),
    );
    const weightMap = await loadWeights(verified.manifest, './');
    networkFor(api, name).loadFromWeightMap(weightMap as never);
    for (const f of [verified.manifestFile, ...verified.weightFiles]) {
      models.push({ name, file: f.path, sha256: f.sha256 });
    }
  }

  const detectorOptions =
    settings.detector === 'tiny'
      ? new api.TinyFaceDetectorOptions({
          inputSize: settings.inputSize,
          scoreThreshold: settings.minScore,
        })
      : new api.SsdMobilenetv1Options({ minConfidence: settings.minScore });
  loaded = { api, tf, detectorOptions };

  const backend = tf.getBackend();
  const wasm = backend === 'wasm';
  return {
    backend,
    simd: wasm ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : false,
    threads: wasm ? Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) : native,
    models,
    loadMs: Math.round(performance.now() - started),
  };
}

function networkFor(api: Api, name: string): { loadFromWeightMap(map: unknown): void } {
  switch (name) {
    case MODEL_NAMES.tiny:
      return api.nets.tinyFaceDetector;
    case MODEL_NAMES.ssd:
      return api.nets.ssdMobilenetv1;
    case MODEL_NAMES.landmarks:
      return api.nets.faceLandmark68Net;
    case MODEL_NAMES.recognition:
      return api.nets.faceRecognitionNet;
    default:
      throw new Error(`unknown model ${name}`);
  }
}

async function analyze(request: AnalyzeRequest): Promise<DetectedFace[]> {
  if (!loaded) throw new Error('models are not loaded');
  const { api, tf, detectorOptions } = loaded;
  const before = tf.memory().numTensors;

  const input = tf.tensor3d(request.data, [request.height, request.width, 3], 'int32');
  const faces: DetectedFace[] = [];
  try {
    const results = await api.detectAllFaces(input as never, detectorOptions).withFaceLandmarks();
    for (const result of results) {
      const { x, y, width, height } = result.detection.box;
      const describe = request.describe && Math.max(width, height) >= request.minFacePx;
      faces.push({
        box: { x, y, width, height },
        score: result.detection.score,
        descriptor: describe ? await describeFace(api, input, result) : null,
        pose: poseFromLandmarks(result.landmarks.positions),
      });
    }
  } finally {
    input.dispose();
  }

  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`tensor leak: ${after - before} tensors left by a frame`);
  return faces;
}

/** The same dlib-style alignment face-api uses in withFaceDescriptors, for one face. */
async function describeFace(
  api: Api,
  input: Tensor,
  result: { landmarks: FaceApi.FaceLandmarks68 },
): Promise<Float32Array | null> {
  const aligned = result.landmarks.align(null, { useDlibAlignment: true });
  const crops = await api.extractFaceTensors(input as never, [aligned]);
  try {
    const crop = crops[0];
    if (!crop) return null;
    const descriptor = await api.nets.faceRecognitionNet.computeFaceDescriptor(crop);
    return descriptor instanceof Float32Array ? descriptor : (descriptor[0] ?? null);
  } finally {
    for (const crop of crops) crop.dispose();
  }
}

function stats(): TensorStats {
  if (!loaded) return { numTensors: 0, numBytes: 0 };
  const { numTensors, numBytes } = loaded.tf.memory();
  const backend = loaded.tf.backend() as { wasm?: { HEAPU8?: Uint8Array } };
  const wasmBytes = backend.wasm?.HEAPU8?.byteLength;
  return wasmBytes === undefined ? { numTensors, numBytes } : { numTensors, numBytes, wasmBytes };
}

async function handle(request: WorkerRequest): Promise<unknown> {
  switch (request.type) {
    case 'load':
      return load(request.settings);
    case 'analyze':
      return analyze(request.request);
    case 'stats':
      return stats();
  }
}

// One request at a time: the tensor count around a frame must see only that frame.
let queue: Promise<unknown> = Promise.resolve();

port.on('message', (request: WorkerRequest) => {
  const run = queue.then(() => handle(request));
  queue = run.catch(() => undefined);
  run.then(
    (result) => post({ id: request.id, ok: true, result }),
    (err: unknown) =>
      post({ id: request.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
