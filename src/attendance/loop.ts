import type { Frame } from '../camera/frame.js';
import { MotionGate } from '../camera/motion.js';
import type { Config } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import type { DaemonBus } from '../events.js';
import type { Logger } from '../log.js';
import { lastPunch } from '../store/attendance.js';
import type { Db } from '../store/db.js';
import { getShift } from '../store/shifts.js';
import { insertSighting } from '../store/sightings.js';
import { getUser } from '../store/users.js';
import type { MatchResult } from '../vision/matcher.js';
import type { DetectedFace } from '../vision/protocol.js';
import type { AttendanceEvent } from './event.js';
import { decidePunch, isDuplicate, type PreviousPunch } from './policy.js';
import { type RecorderContext, recordPunch } from './recorder.js';
import { FaceTracker, type Observation, type TrackDecision } from './tracker.js';

/** What the loop needs from the face engine. */
export interface FaceAnalyzer {
  analyze(frame: Frame, opts: { minFacePx?: number; describe?: boolean }): Promise<DetectedFace[]>;
}

/** What the loop needs from the matcher. */
export interface FaceMatcher {
  match(descriptor: Float32Array): MatchResult;
}

export interface LoopOptions {
  db: Db;
  config: Config;
  analyzer: FaceAnalyzer;
  /** Asked for the current matcher before each analysis, so new enrolments apply at once. */
  matcher: () => FaceMatcher;
  recorder: RecorderContext;
  logger: Logger;
  bus?: DaemonBus;
  /**
   * true (a live camera): a frame that arrives while an analysis runs is dropped.
   * false (a replay): the loop waits, and the source is read no faster than it is analysed.
   */
  dropWhenBusy: boolean;
  /** Analyse every frame and describe every face: the naive loop, for comparison. */
  naive?: boolean;
  /** Analyse one frame in this many; the health module raises it under memory pressure. */
  frameStride?: () => number;
  /** Told each recorded event (replay prints them). */
  onEvent?: (event: AttendanceEvent, decision: DecisionTiming) => void;
}

/** Frame times (ms since the epoch) behind a punch. */
export interface DecisionTiming {
  /** The first frame of the input. */
  streamStart: number;
  /** The first analysed frame the face was found in. */
  firstSeen: number;
  /** The frame that completed the vote. */
  decidedAt: number;
}

export interface LoopStats {
  frames_read: number;
  frames_analysed: number;
  /** Skipped by the motion gate: nothing moved and no face was waiting for a decision. */
  frames_skipped: number;
  /** Arrived while an analysis was running. */
  frames_dropped: number;
  /** Left out to shed work under memory pressure. */
  frames_shed: number;
  analysis_errors: number;
  /** Faces found, summed over analysed frames. */
  detections: number;
  /** Distinct faces followed (tracks). */
  faces_seen: number;
  unknown_faces: number;
  events: number;
  /** Recognitions within the duplicate period of the user's previous punch. */
  duplicates: number;
  ms_per_analysed_frame_p50: number | null;
  ms_per_analysed_frame_p95: number | null;
}

/** Analysis times kept for the percentiles: enough for a stable p95, bounded in memory. */
const TIMING_SAMPLES = 2048;

export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, rank)]!;
}

/**
 * The recognition loop: frames → motion gate → detect and describe → match → track and vote
 * → attendance policy → one transaction (row and outbox event). At most one analysis runs at
 * a time; nothing is queued without bound.
 */
export class RecognitionLoop {
  private readonly gate: MotionGate | null;
  private readonly tracker: FaceTracker;
  private readonly timings: number[] = [];
  private timingNext = 0;
  private inFlight: Promise<void> | undefined;
  private firstFrameAt: number | null = null;
  private readonly counts = {
    frames_read: 0,
    frames_analysed: 0,
    frames_skipped: 0,
    frames_dropped: 0,
    frames_shed: 0,
    analysis_errors: 0,
    detections: 0,
    unknown_faces: 0,
    events: 0,
    duplicates: 0,
  };

  constructor(private readonly options: LoopOptions) {
    const { camera, vision } = options.config;
    this.gate =
      camera.motion_gate && !options.naive ? new MotionGate(camera.motion_threshold) : null;
    this.tracker = new FaceTracker({ minFrames: vision.min_frames });
  }

  get stats(): LoopStats {
    return {
      ...this.counts,
      faces_seen: this.tracker.created,
      ms_per_analysed_frame_p50: round(percentile(this.timings, 50)),
      ms_per_analysed_frame_p95: round(percentile(this.timings, 95)),
    };
  }

  /** Runs until the frames end or `signal` aborts; the analysis in flight is finished. */
  async run(frames: AsyncIterable<Frame>, signal: AbortSignal): Promise<LoopStats> {
    for await (const frame of frames) {
      if (signal.aborted) break;
      this.counts.frames_read++;
      this.firstFrameAt ??= frame.timestamp;
      this.options.bus?.emit('progress');

      const stride = this.options.frameStride?.() ?? 1;
      if (stride > 1 && this.counts.frames_read % stride !== 0) {
        this.counts.frames_shed++;
        continue;
      }

      const moved = this.gate?.moved(frame) ?? true;
      if (!moved && !this.tracker.wantsFrames) {
        this.counts.frames_skipped++;
        continue;
      }

      if (this.inFlight) {
        if (this.options.dropWhenBusy) {
          this.counts.frames_dropped++;
          continue;
        }
        await this.inFlight;
      }
      this.gate?.accept();
      const analysis = this.analyse(frame)
        .catch((err) => {
          // A bug in matching or tracking must not end the loop (nor the daemon).
          this.counts.analysis_errors++;
          this.options.logger.error({ err }, 'frame handling failed; frame skipped');
        })
        .finally(() => {
          this.inFlight = undefined;
        });
      this.inFlight = analysis;
      if (!this.options.dropWhenBusy) await analysis;
    }

    await this.inFlight;
    for (const decision of this.tracker.flush()) this.handle(decision, decision.track.lastSeen);
    return this.stats;
  }

  private async analyse(frame: Frame): Promise<void> {
    const { vision } = this.options.config;
    const began = performance.now();
    let faces: DetectedFace[];
    try {
      faces = await this.options.analyzer.analyze(frame, {
        minFacePx: this.options.naive ? 0 : vision.min_face_px,
        describe: true,
      });
    } catch (err) {
      const errors = ++this.counts.analysis_errors;
      // A dead engine fails every frame: log the first failure and then one in a hundred.
      if (errors === 1 || errors % 100 === 0) {
        this.options.logger.error(
          { err: errorMessage(err), errors },
          'face analysis failed; frame skipped',
        );
      }
      return;
    }
    this.recordTiming(performance.now() - began);
    this.counts.frames_analysed++;
    this.counts.detections += faces.length;

    const matcher = this.options.matcher();
    const observations: Observation[] = faces.map((face) => {
      if (!face.descriptor) return { box: face.box, described: false, match: null };
      const result = matcher.match(face.descriptor);
      const match =
        result.userId !== null && result.userCode !== null
          ? { userId: result.userId, userCode: result.userCode, distance: result.distance }
          : null;
      return { box: face.box, described: true, match };
    });

    for (const decision of this.tracker.update(observations, frame.timestamp)) {
      this.handle(decision, frame.timestamp);
    }
  }

  private recordTiming(ms: number): void {
    if (this.timings.length < TIMING_SAMPLES) this.timings.push(ms);
    else this.timings[this.timingNext] = ms;
    this.timingNext = (this.timingNext + 1) % TIMING_SAMPLES;
  }

  private handle(decision: TrackDecision, timestamp: number): void {
    try {
      if (decision.kind === 'unknown') this.unknown(timestamp);
      else this.punch(decision, timestamp);
    } catch (err) {
      // A full disk or a locked database must not end the loop; the next face tries again.
      this.options.logger.error(
        { err: errorMessage(err) },
        'cannot record attendance: check the data directory and disk space',
      );
      this.options.bus?.emit('alert', {
        kind: 'database_error',
        severity: 'critical',
        message: `cannot record attendance: ${errorMessage(err)}`,
      });
    }
  }

  private unknown(timestamp: number): void {
    this.counts.unknown_faces++;
    const { attendance, terminal } = this.options.config;
    if (!attendance.record_sightings) return;
    insertSighting(this.options.db, {
      occurredAt: new Date(timestamp).toISOString(),
      camera: terminal.camera_name,
      distance: null,
    });
  }

  private punch(decision: Extract<TrackDecision, { kind: 'user' }>, timestamp: number): void {
    const { db, config, logger } = this.options;
    const user = getUser(db, decision.userId);
    if (!user?.active) {
      logger.warn({ user: decision.userCode }, 'recognised user is not active; no punch');
      return;
    }
    const at = new Date(timestamp);
    const last = lastPunch(db, user.id, at.toISOString());
    const previous: PreviousPunch | undefined = last && {
      kind: last.kind,
      shiftDay: last.shiftDay,
      occurredAt: new Date(last.occurredAt),
    };
    if (isDuplicate(previous, at, config.attendance.duplicate_period_s)) {
      this.counts.duplicates++;
      logger.debug({ user: user.code }, 'duplicate punch ignored');
      return;
    }

    const shift = user.shiftId === null ? null : (getShift(db, user.shiftId) ?? null);
    const decided = decidePunch({
      at,
      timeZone: config.terminal.timezone,
      shift,
      mode: config.attendance.mode,
      previous,
    });
    const event = recordPunch(db, this.options.recorder, {
      userId: user.id,
      userCode: user.code,
      userName: user.name,
      kind: decided.kind,
      status: decided.status,
      occurredAt: at,
      shiftId: decided.shiftId,
      shiftName: decided.shiftName,
      shiftDay: decided.shiftDay,
      distance: decision.distance,
      camera: config.terminal.camera_name,
    });
    this.counts.events++;
    logger.info(
      { user: user.code, kind: event.kind, status: event.status, seq: event.seq },
      'attendance recorded',
    );
    this.options.bus?.emit('attendance', event);
    this.options.bus?.emit('outbox');
    this.options.onEvent?.(event, {
      streamStart: this.firstFrameAt ?? decision.track.firstSeen,
      firstSeen: decision.track.firstSeen,
      decidedAt: timestamp,
    });
  }
}

function round(value: number | null): number | null {
  return value === null ? null : Math.round(value * 10) / 10;
}
