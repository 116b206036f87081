import type { CameraState } from '../events.js';
import type { HealthSample } from './monitor.js';
import type { PressureLevel } from './pressure.js';

/**
 * The heartbeat payload: flat, snake_case, every figure carrying its unit. Published retained
 * on `heartbeat`, printed by `presente status --json` and served at /status. Null means the
 * figure is not known here (no GC yet, no thermal sensor, no model loaded).
 */
export type HeartbeatFigures = {
  terminal_id: string;
  at: string;
  uptime_s: number;
  rss_mb: number;
  heap_used_mb: number;
  heap_total_mb: number;
  heap_limit_mb: number;
  heap_after_gc_mb: number | null;
  external_mb: number;
  array_buffers_mb: number;
  gc_count: number;
  gc_major_count: number;
  gc_pause_ms_total: number;
  gc_pause_ms_p99: number | null;
  loop_delay_ms_p50: number;
  loop_delay_ms_p99: number;
  model_loaded: boolean;
  tensors: number | null;
  tensor_mb: number | null;
  wasm_mb: number | null;
  cpu_percent: number;
  load_1m: number;
  temperature_c: number | null;
  throttled: boolean | null;
  disk_free_mb: number | null;
  db_size_mb: number | null;
  db_writable: boolean;
  outbox_pending: number | null;
  camera_state: CameraState | 'unknown';
  camera_fps: number;
  inference_ms_p50: number | null;
  inference_ms_p95: number | null;
  last_attendance_at: string | null;
  /** NTP synchronisation of the clock; null when the system cannot tell. */
  clock_synced: boolean | null;
  memory_pressure: PressureLevel;
  frame_stride: number;
  rss_slope_mb_per_h: number | null;
  heap_slope_mb_per_h: number | null;
  version: string;
  node_version: string;
  tfjs_version: string | null;
  face_api_version: string | null;
};

type NumericKey = {
  [K in keyof HeartbeatFigures]: HeartbeatFigures[K] extends string | null ? never : K;
}[keyof HeartbeatFigures];

/** The figures that are numbers or flags: each is also a Prometheus gauge. */
export const METRIC_FIGURES: readonly NumericKey[] = [
  'uptime_s',
  'rss_mb',
  'heap_used_mb',
  'heap_total_mb',
  'heap_limit_mb',
  'heap_after_gc_mb',
  'external_mb',
  'array_buffers_mb',
  'gc_count',
  'gc_major_count',
  'gc_pause_ms_total',
  'gc_pause_ms_p99',
  'loop_delay_ms_p50',
  'loop_delay_ms_p99',
  'model_loaded',
  'tensors',
  'tensor_mb',
  'wasm_mb',
  'cpu_percent',
  'load_1m',
  'temperature_c',
  'throttled',
  'disk_free_mb',
  'db_size_mb',
  'db_writable',
  'outbox_pending',
  'camera_fps',
  'inference_ms_p50',
  'inference_ms_p95',
  'frame_stride',
  'rss_slope_mb_per_h',
  'heap_slope_mb_per_h',
];

/** Rounds for the wire: tenths of a unit say enough and keep the payload short. */
function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function roundOrNull(value: number | null, digits = 1): number | null {
  return value === null ? null : round(value, digits);
}

export function heartbeatFigures(terminalId: string, sample: HealthSample): HeartbeatFigures {
  const { memory, gc, loop, vision, system, pressure, versions } = sample;
  return {
    terminal_id: terminalId,
    at: sample.at,
    uptime_s: Math.round(sample.uptimeS),
    rss_mb: round(memory.rssMb),
    heap_used_mb: round(memory.heapUsedMb),
    heap_total_mb: round(memory.heapTotalMb),
    heap_limit_mb: round(memory.heapLimitMb),
    heap_after_gc_mb: roundOrNull(memory.heapAfterGcMb),
    external_mb: round(memory.externalMb),
    array_buffers_mb: round(memory.arrayBuffersMb),
    gc_count: gc.count,
    gc_major_count: gc.byKind.major.count,
    gc_pause_ms_total: round(gc.pauseMsTotal),
    gc_pause_ms_p99: roundOrNull(gc.pauseMsP99, 2),
    loop_delay_ms_p50: round(loop.delayMsP50, 2),
    loop_delay_ms_p99: round(loop.delayMsP99, 2),
    model_loaded: vision.loaded,
    tensors: vision.tensors,
    tensor_mb: roundOrNull(vision.tensorMb),
    wasm_mb: roundOrNull(vision.wasmMb),
    cpu_percent: round(system.cpuPercent),
    load_1m: round(system.load1, 2),
    temperature_c: roundOrNull(system.temperatureC),
    throttled: system.throttled,
    disk_free_mb: roundOrNull(sample.diskFreeMb, 0),
    db_size_mb: roundOrNull(sample.dbSizeMb, 2),
    db_writable: sample.dbWritable,
    outbox_pending: sample.outboxPending,
    camera_state: sample.camera.state,
    camera_fps: round(sample.camera.fps),
    inference_ms_p50: roundOrNull(sample.inference.msP50),
    inference_ms_p95: roundOrNull(sample.inference.msP95),
    last_attendance_at: sample.lastAttendanceAt,
    clock_synced: sample.clockSynced,
    memory_pressure: pressure.level,
    frame_stride: pressure.frameStride,
    rss_slope_mb_per_h: roundOrNull(pressure.rssSlopeMbPerHour),
    heap_slope_mb_per_h: roundOrNull(pressure.heapSlopeMbPerHour),
    version: versions.presente,
    node_version: versions.node,
    tfjs_version: versions.tfjs,
    face_api_version: versions.face_api,
  };
}

/** The reasons the terminal cannot do its job right now; empty when it is healthy. */
export function unhealthyReasons(sample: HealthSample): string[] {
  const reasons: string[] = [];
  if (!sample.vision.loaded) reasons.push('model not loaded');
  if (!sample.dbWritable) reasons.push('database not writable');
  if (sample.camera.state === 'failed') reasons.push('camera failed');
  if (sample.pressure.level === 'hard' || sample.pressure.level === 'leak') {
    reasons.push(`memory pressure: ${sample.pressure.reason}`);
  }
  return reasons;
}
