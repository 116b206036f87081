import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RgbImage } from '../camera/frame.js';
import type { Config } from '../config/schema.js';
import { PresenteError } from '../errors.js';
import type { Logger } from '../log.js';
import { faceApiVersion, MODEL_NAMES, modelIdFrom, tfjsVersion } from './models.js';
import type {
  DetectedFace,
  LoadSettings,
  TensorStats,
  WorkerLoadResult,
  WorkerMessage,
  WorkerRequest,
} from './protocol.js';

export type { DetectedFace, FaceBox } from './protocol.js';

export type VisionConfig = Config['vision'];

export interface EngineInfo {
  backend: string;
  simd: boolean;
  threads: boolean;
  detector: 'tiny' | 'ssd';
  /** Identifies the descriptor space; stored with every template. */
  modelId: string;
  models: { name: string; file: string; sha256: string }[];
  tfjsVersion: string;
  faceApiVersion: string;
  loadMs: number;
}

export interface LoadProgress {
  step: number;
  total: number;
  name: string;
}

export interface AnalyzeOptions {
  /** Faces narrower than this are detected but not described (default vision.min_face_px). */
  minFacePx?: number;
  /** false: detection, landmarks and pose only (default true). */
  describe?: boolean;
}

export interface VisionEngine {
  /** Loads the models once; every caller shares the one promise. */
  load(): Promise<EngineInfo>;
  analyze(image: RgbImage, opts?: AnalyzeOptions): Promise<DetectedFace[]>;
  /** How many times models were actually loaded in this process (stays 1). */
  readonly loadCount: number;
  /** Tensor and WASM memory figures, from the worker. */
  stats(): Promise<TensorStats>;
  /** Listens to model loading steps (for a progress line on a terminal). */
  onProgress(listener: (progress: LoadProgress) => void): () => void;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);

/** Process-wide: every engine that ever loaded models adds one. */
let modelLoads = 0;

/**
 * Starts the worker from the same tree as this file: worker.js from dist/, or worker.ts
 * under tsx (tests, `npm run presente`). Node 20 does not apply `--import tsx` hooks to a
 * worker's entry module, so under tsx a small bootstrap registers tsx in the worker first.
 */
function spawnWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./worker.js', import.meta.url), { name: 'presente-vision' });
  }
  const entry = new URL('./worker.ts', import.meta.url).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)})
    .then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true, execArgv: [], name: 'presente-vision' });
}

function wasmDir(): string {
  const pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return `${join(dirname(pkg), 'dist')}/`;
}

export function loadSettings(config: VisionConfig): LoadSettings {
  return {
    backend: config.backend,
    detector: config.detector,
    inputSize: config.input_size,
    minScore: config.min_score,
    modelsDir: config.models_dir,
    wasmDir: wasmDir(),
  };
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** The engine on the main thread: a thin client of the worker that holds the models. */
class WorkerVisionEngine implements VisionEngine {
  private worker: Worker | undefined;
  private loading: Promise<EngineInfo> | undefined;
  private stopped: string | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly progressListeners = new Set<(progress: LoadProgress) => void>();

  constructor(
    readonly config: VisionConfig,
    private readonly logger: Logger,
  ) {}

  get loadCount(): number {
    return modelLoads;
  }

  load(): Promise<EngineInfo> {
    this.loading ??= this.start();
    return this.loading;
  }

  onProgress(listener: (progress: LoadProgress) => void): () => void {
    this.progressListeners.add(listener);
    return () => this.progressListeners.delete(listener);
  }

  async analyze(image: RgbImage, opts: AnalyzeOptions = {}): Promise<DetectedFace[]> {
    if (image.data.length !== image.width * image.height * 3) {
      throw new PresenteError(
        `image data has ${image.data.length} bytes, expected ${image.width}x${image.height}x3`,
      );
    }
    await this.load();

    // A private copy travels to the worker, so the caller may reuse its frame buffer.
    const data = new Uint8Array(image.data);
    const request = {
      width: image.width,
      height: image.height,
      data,
      minFacePx: opts.minFacePx ?? this.config.min_face_px,
      describe: opts.describe ?? true,
    };
    return (await this.call({ type: 'analyze', request }, [data.buffer])) as DetectedFace[];
  }

  async stats(): Promise<TensorStats> {
    if (!this.worker) return { numTensors: 0, numBytes: 0 };
    return (await this.call({ type: 'stats' })) as TensorStats;
  }

  async close(): Promise<void> {
    this.stopped ??= 'the vision engine was closed';
    const worker = this.worker;
    this.worker = undefined;
    if (singleton === this) singleton = undefined;
    if (worker) await worker.terminate();
  }

  private async start(): Promise<EngineInfo> {
    if (this.stopped) throw new PresenteError(this.stopped);
    const settings = loadSettings(this.config);

    // Counted before the worker exists: a load that fails still was a load.
    modelLoads += 1;
    const worker = spawnWorker();
    this.worker = worker;
    worker.unref();
    worker.on('message', (message: WorkerMessage) => this.receive(message));
    worker.on('error', (err) => this.fail(`vision worker failed: ${err.message}`));
    worker.on('exit', (code) => this.fail(`vision worker exited with code ${code}`));

    let result: WorkerLoadResult;
    try {
      result = (await this.call({ type: 'load', settings })) as WorkerLoadResult;
    } catch (err) {
      this.logger.error({ err }, 'vision models failed to load');
      await this.close();
      throw err instanceof PresenteError ? err : new PresenteError((err as Error).message);
    }

    const recognition = result.models.find((m) =>
      m.file.endsWith(`${MODEL_NAMES.recognition}.bin`),
    );
    const info: EngineInfo = {
      ...result,
      detector: this.config.detector,
      modelId: modelIdFrom(recognition?.sha256 ?? 'unknown'),
      tfjsVersion: tfjsVersion(),
      faceApiVersion: faceApiVersion(),
    };
    this.logger.info(
      {
        backend: info.backend,
        simd: info.simd,
        threads: info.threads,
        detector: info.detector,
        modelId: info.modelId,
        models: [...new Set(info.models.map((m) => m.name))],
        tfjs: info.tfjsVersion,
        faceApi: info.faceApiVersion,
        loadMs: info.loadMs,
      },
      'vision models loaded',
    );
    this.logger.debug({ models: info.models }, 'vision model files verified');
    return info;
  }

  private call(request: DistributiveOmit<WorkerRequest, 'id'>, transfer: ArrayBuffer[] = []) {
    const worker = this.worker;
    if (!worker) {
      return Promise.reject(new PresenteError(this.stopped ?? 'the vision engine is not loaded'));
    }
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Keep the process alive only while a request is in flight, so a command that
      // forgets to close the engine still exits.
      worker.ref();
      worker.postMessage({ ...request, id }, transfer);
    });
  }

  private receive(message: WorkerMessage): void {
    if ('type' in message) {
      if (message.type === 'output') {
        this.logger.debug({ output: message.text }, 'vision worker output');
      } else {
        for (const listener of this.progressListeners) listener(message);
      }
      return;
    }
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (message.ok) pending.resolve(message.result);
    else pending.reject(new PresenteError(message.error));
  }

  private fail(reason: string): void {
    if (!this.stopped) {
      this.stopped = reason;
      this.logger.error({ reason }, 'vision worker stopped; restart the daemon');
    }
    this.worker = undefined;
    for (const pending of this.pending.values()) pending.reject(new PresenteError(reason));
    this.pending.clear();
  }
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

let singleton: WorkerVisionEngine | undefined;

/**
 * The process-wide engine. Later callers (a config reload, an MQTT reconnect, a command)
 * get the same engine and the same load; vision settings that change need a restart.
 */
export function getVisionEngine(config: VisionConfig, logger: Logger): VisionEngine {
  if (!singleton) {
    singleton = new WorkerVisionEngine(config, logger.child({ module: 'vision' }));
    return singleton;
  }
  if (JSON.stringify(loadSettings(singleton.config)) !== JSON.stringify(loadSettings(config))) {
    logger.warn({ module: 'vision' }, 'vision settings changed; they apply after a restart');
  }
  return singleton;
}

/** A separate engine with its own worker, for benchmarks that compare detectors. */
export function createVisionEngine(config: VisionConfig, logger: Logger): VisionEngine {
  return new WorkerVisionEngine(config, logger.child({ module: 'vision' }));
}
