// Soak: the real pipeline (ffmpeg source, motion gate off, model, matcher, tracker, recorder)
// over the looped clip, with memory measured every N analysed frames: RSS, the main heap after
// a full collection, and the tensors and WASM memory of the inference worker.
//
//   npm run bench:soak                         20,000 analysed frames, a row every 1,000
//   SOAK_FRAMES=2000 npm run bench:soak   shorter; rows every frames/20 by default
//   SOAK_EVERY=100                    rows every 100 frames
//
// PRESENTE_VISION_* variables choose the model settings as for the daemon; by default the
// tiny detector at 224 px, the cheapest setting, so more frames fit in the time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RecognitionLoop } from '../src/attendance/loop.js';
import { Camera, createSource } from '../src/camera/camera.js';
import { loadConfig } from '../src/config/load.js';
import { slope } from '../src/health/pressure.js';
import { silentLogger } from '../src/log.js';
import { packageRoot } from '../src/paths.js';
import { loadTemplateKey } from '../src/privacy/crypto.js';
import { openDatabase } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { getVisionEngine } from '../src/vision/engine.js';
import { Matcher, matchSettings } from '../src/vision/matcher.js';

const MB = 1024 * 1024;
/** Share of the rows counted as warm-up and left out of the slopes. */
const WARM_UP_SHARE = 0.2;
export const CLIP = join(
  packageRoot,
  'test',
  'fixtures',
  'faces',
  'video',
  'hamilton_clip_10s.mp4',
);

export interface SoakRow {
  frames: number;
  rssMb: number;
  heapAfterGcMb: number;
  tensors: number;
  tensorMb: number;
  wasmMb: number | null;
}

export interface SoakResult {
  rows: SoakRow[];
  /** Rows after the warm-up (the model's WASM heap and caches filling up). */
  steady: SoakRow[];
  heapSlopeMbPer1000: number | null;
  rssSlopeMbPer1000: number | null;
  msPerFrame: number;
  settings: string;
}

export interface SoakOptions {
  frames: number;
  every: number;
  /** Told each row as it is measured (a long run shows its progress). */
  onRow?: (row: SoakRow) => void;
}

/**
 * A full collection on demand, for measuring only: the daemon never forces one. Node allows
 * exposing gc() after start through V8's flags.
 */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export async function soak(options: SoakOptions): Promise<SoakResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'presente-soak-'));
  const { config: base } = loadConfig({ env: process.env });
  const config = {
    ...base,
    data: { dir: dataDir },
    vision: {
      ...base.vision,
      detector: process.env.PRESENTE_VISION_DETECTOR ? base.vision.detector : ('tiny' as const),
      input_size: process.env.PRESENTE_VISION_INPUT_SIZE ? base.vision.input_size : 224,
    },
    camera: {
      ...base.camera,
      source: 'file' as const,
      path: CLIP,
      loop: true,
      realtime: false,
      width: 640,
      height: 360,
      motion_gate: false,
    },
  };
  const gc = collector();
  const logger = silentLogger();
  const db = openDatabase(dataDir);
  migrate(db);
  const engine = getVisionEngine(config.vision, logger);
  const abort = new AbortController();

  try {
    const info = await engine.load();
    const matcher = Matcher.fromStore(
      db,
      loadTemplateKey(config),
      matchSettings(config.vision),
      info.modelId,
    );
    const { source, clock } = createSource(config.camera, { replay: true, logger });
    const camera = new Camera({
      source,
      clock,
      logger,
      stallMs: config.camera.stall_s * 1000,
      restartMaxMs: config.camera.restart_max_s * 1000,
    });
    const loop = new RecognitionLoop({
      db,
      config,
      analyzer: engine,
      matcher: () => matcher,
      recorder: {
        terminalId: 'soak',
        timeZone: 'UTC',
        modelVersion: info.modelId,
        clockSynced: () => true,
      },
      logger,
      dropWhenBusy: false,
    });

    const rows: SoakRow[] = [];
    let nextRowAt = options.every;
    let measuring: Promise<void> = Promise.resolve();
    const measure = async (frames: number) => {
      gc();
      const stats = await engine.stats();
      const row = {
        frames,
        rssMb: process.memoryUsage().rss / MB,
        heapAfterGcMb: process.memoryUsage().heapUsed / MB,
        tensors: stats.numTensors,
        tensorMb: stats.numBytes / MB,
        wasmMb: stats.wasmBytes === undefined ? null : stats.wasmBytes / MB,
      };
      rows.push(row);
      options.onRow?.(row);
    };

    // The frames pass through an async generator so each row is measured between two frames,
    // with no analysis in flight.
    const began = performance.now();
    async function* counted() {
      for await (const frame of camera.frames(abort.signal)) {
        const analysed = loop.stats.frames_analysed;
        if (analysed >= nextRowAt) {
          nextRowAt += options.every;
          measuring = measure(analysed);
          await measuring;
        }
        if (analysed >= options.frames) {
          abort.abort();
          return;
        }
        yield frame;
      }
    }
    await loop.run(counted(), abort.signal);
    await measuring;
    const msPerFrame = (performance.now() - began) / Math.max(loop.stats.frames_analysed, 1);

    // Warm-up: the WASM heap and the caches grow over the first rows, then hold.
    const steady = rows.slice(Math.max(1, Math.ceil(rows.length * WARM_UP_SHARE)));
    const per1000 = (pick: (r: SoakRow) => number) => {
      const s = slope(steady.map((r) => ({ x: r.frames / 1000, y: pick(r) })));
      return s === null ? null : s;
    };
    return {
      rows,
      steady,
      heapSlopeMbPer1000: per1000((r) => r.heapAfterGcMb),
      rssSlopeMbPer1000: per1000((r) => r.rssMb),
      msPerFrame,
      settings: `${info.backend}, ${config.vision.detector} detector at ${config.vision.input_size} px`,
    };
  } finally {
    abort.abort();
    await engine.close();
    db.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function fixed(value: number | null, digits = 1): string {
  return value === null ? '-' : value.toFixed(digits);
}

export function soakTable(result: SoakResult): string {
  const lines = [
    '| analysed frames | RSS MB | heap after GC MB | tensors | tensor MB | WASM MB |',
    '|---:|---:|---:|---:|---:|---:|',
    ...result.rows.map(
      (r) =>
        `| ${r.frames} | ${fixed(r.rssMb)} | ${fixed(r.heapAfterGcMb, 2)} | ${r.tensors} | ` +
        `${fixed(r.tensorMb)} | ${fixed(r.wasmMb)} |`,
    ),
    '',
    `Slope after warm-up (least squares over the last ${result.steady.length} rows): heap after GC ` +
      `${fixed(result.heapSlopeMbPer1000, 3)} MB per 1,000 frames, RSS ` +
      `${fixed(result.rssSlopeMbPer1000, 2)} MB per 1,000 frames. ` +
      `${fixed(result.msPerFrame, 0)} ms per analysed frame (${result.settings}).`,
  ];
  return lines.join('\n');
}

export async function run(): Promise<string> {
  const frames = Number(process.env.SOAK_FRAMES ?? 20_000);
  const defaultEvery = frames >= 20_000 ? 1000 : Math.max(1, Math.round(frames / 20));
  const every = Number(process.env.SOAK_EVERY ?? defaultEvery);
  if (!(frames > 0 && every > 0)) throw new Error('SOAK_FRAMES and SOAK_EVERY: numbers > 0');
  const onRow = (row: SoakRow) =>
    process.stderr.write(`soak: ${row.frames} frames, rss ${row.rssMb.toFixed(0)} MB\n`);
  return soakTable(await soak({ frames, every, onRow }));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${await run()}\n`);
}
