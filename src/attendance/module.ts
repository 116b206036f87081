import { Camera, type CameraStatus, createSource } from '../camera/camera.js';
import type { Module, Runtime } from '../daemon.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { loadTemplateKey } from '../privacy/crypto.js';
import { listTemplates } from '../store/templates.js';
import type { VisionEngine } from '../vision/engine.js';
import { Matcher, matchSettings } from '../vision/matcher.js';
import { type LoopStats, RecognitionLoop } from './loop.js';

/** How often the daemon looks for templates enrolled by another process (the CLI). */
const TEMPLATE_CHECK_MS = 10_000;

export interface RecognitionStatus {
  camera: CameraStatus | null;
  loop: LoopStats | null;
  templates: number;
}

export interface RecognitionOptions {
  /** Whether the NTP clock is synchronised, recorded with each punch. */
  clockSynced?: () => boolean;
  /** Analyse one frame in this many (memory pressure sheds work). */
  frameStride?: () => number;
}

/**
 * The camera and the recognition loop as one daemon module. It starts after the vision
 * module has loaded the model; stopping it ends the camera and waits for the analysis in
 * flight, so a face being decided is still recorded.
 */
export class RecognitionModule implements Module {
  readonly name = 'recognition';
  private readonly logger: Logger;
  private loop: RecognitionLoop | undefined;
  private matcher: Matcher | undefined;
  private templatesSeen = '';
  private modelId = '';
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  private readonly camera: Camera;

  constructor(
    private readonly runtime: Runtime,
    private readonly engine: VisionEngine,
    private readonly options: RecognitionOptions = {},
  ) {
    const { config, bus } = runtime;
    this.logger = runtime.logger.child({ module: 'recognition' });

    // Built now, so a camera setting that is missing fails before the slow model load.
    const cameraLogger = runtime.logger.child({ module: 'camera' });
    const { source, clock } = createSource(config.camera, { logger: cameraLogger });
    this.camera = new Camera({
      source,
      clock,
      logger: cameraLogger,
      stallMs: config.camera.stall_s * 1000,
      restartMaxMs: config.camera.restart_max_s * 1000,
    });
    this.camera.on('state', (status) => bus.emit('camera', status.state));
    this.camera.on('retry', () => bus.emit('camera_retry'));
  }

  get status(): RecognitionStatus {
    return {
      camera: this.camera.status,
      loop: this.loop?.stats ?? null,
      templates: this.matcher?.size ?? 0,
    };
  }

  /** Re-reads the templates (after an enrolment or a removal). */
  reloadMatcher(): void {
    const { config, db } = this.runtime;
    this.templatesSeen = templateFingerprint(this.runtime);
    this.matcher = Matcher.fromStore(
      db,
      loadTemplateKey(config),
      matchSettings(config.vision),
      this.modelId,
    );
    this.logger.info(
      { templates: this.matcher.size, users: this.matcher.users },
      'templates loaded',
    );
  }

  async start(signal: AbortSignal): Promise<void> {
    const { config, db, bus } = this.runtime;
    const info = await this.engine.load();
    if (signal.aborted) return;
    this.modelId = info.modelId;
    this.reloadMatcher();
    if (this.matcher?.size === 0) {
      this.logger.warn({}, 'no face templates: enroll people with presente enroll');
    }

    const loop = new RecognitionLoop({
      db,
      config,
      analyzer: this.engine,
      matcher: () => this.currentMatcher(),
      recorder: {
        terminalId: config.terminal.id,
        timeZone: config.terminal.timezone,
        modelVersion: info.modelId,
        clockSynced: this.options.clockSynced ?? (() => false),
      },
      logger: this.logger,
      bus,
      dropWhenBusy: true,
      frameStride: this.options.frameStride,
    });
    this.loop = loop;

    this.running = loop.run(this.camera.frames(this.abort.signal), this.abort.signal).then(
      (stats) => {
        if (!this.abort.signal.aborted) this.logger.warn({ ...stats }, 'the camera source ended');
      },
      (err) => this.logger.error({ err: errorMessage(err) }, 'recognition loop failed'),
    );
    this.checkTimer = setInterval(() => this.checkTemplates(), TEMPLATE_CHECK_MS);
    this.checkTimer.unref();
  }

  /** Settles when the frames end: a finite source (a file played once) ran out, or stop(). */
  finished(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    clearInterval(this.checkTimer);
    this.abort.abort();
    await this.running;
    if (this.loop) this.logger.info({ ...this.loop.stats }, 'recognition stopped');
  }

  private currentMatcher(): Matcher {
    if (!this.matcher) throw new Error('templates not loaded');
    return this.matcher;
  }

  private checkTemplates(): void {
    try {
      if (templateFingerprint(this.runtime) !== this.templatesSeen) this.reloadMatcher();
    } catch (err) {
      this.logger.error({ err: errorMessage(err) }, 'cannot reload face templates');
    }
  }
}

/** Changes when a template is added or removed; reads ids only, never a descriptor. */
function templateFingerprint(runtime: Runtime): string {
  return listTemplates(runtime.db)
    .map((t) => t.id)
    .join(',');
}
