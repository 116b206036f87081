import { resolve } from 'node:path';
import { RecognitionModule } from './attendance/module.js';
import type { Config } from './config/schema.js';
import { Daemon, type Module, type Runtime } from './daemon.js';
import { engineProbe, HealthModule } from './health/module.js';
import { SystemdModule } from './health/systemd.js';
import { jobModules } from './jobs/index.js';
import type { Logger } from './log.js';
import { visionEnroller } from './mqtt/enroll.js';
import { createMqttModule, type MqttModule } from './mqtt/module.js';
import { bundledSeedsDir } from './paths.js';
import { privacyModule } from './privacy/module.js';
import type { Db } from './store/db.js';
import { migrate } from './store/migrate.js';
import { seed } from './store/seed.js';
import { getVisionEngine, type VisionEngine } from './vision/engine.js';

export interface DaemonParts {
  daemon: Daemon;
  runtime: Runtime;
  vision: VisionEngine;
  recognition: RecognitionModule;
  mqtt: MqttModule;
  health: HealthModule;
}

/** Migrations, then the seeds (data only: they never load a model), then closes the file last. */
function storeModule(runtime: Runtime): Module {
  const logger = runtime.logger.child({ module: 'store' });
  return {
    name: 'store',
    async start() {
      const { config, db } = runtime;
      const migrated = migrate(db);
      logger.info({ version: migrated.current, applied: migrated.applied }, 'database ready');
      if (config.seeds.on_start) {
        const seeded = seed(db, config.seeds.dir ? resolve(config.seeds.dir) : bundledSeedsDir);
        logger.info({ changed: seeded.changed }, 'seeds applied');
      }
    },
    async stop() {
      runtime.db.close();
    },
  };
}

/** Loads the face model, once per process, before anything asks it for a face. */
function visionModule(engine: VisionEngine, onLoaded: () => void = () => undefined): Module {
  return {
    name: 'vision',
    async start() {
      await engine.load();
      onLoaded();
    },
    async stop() {
      await engine.close();
    },
  };
}

/**
 * The daemon `presente run` starts: every capability as a module, started in this order and
 * stopped in reverse. A new capability is added here, at the step where it belongs.
 */
export function buildDaemon(options: { config: Config; logger: Logger; db: Db }): DaemonParts {
  const daemon = new Daemon(options.logger);
  const runtime: Runtime = {
    ...options,
    bus: daemon.bus,
    requestStop: (reason, exitCode) => void daemon.stop(reason, exitCode),
  };
  const vision = getVisionEngine(runtime.config.vision, runtime.logger);
  const recognition: RecognitionModule = new RecognitionModule(runtime, vision, {
    frameStride: (): number => health.frameStride(),
    clockSynced: (): boolean => health.clockSynced(),
  });

  // 1. The database: schema and seeds. Stopped last, so every module can still write.
  daemon.add(storeModule(runtime));
  // The template key is checked before the slow model load: a wrong key fails at once.
  daemon.add(privacyModule(runtime));

  // 2. Health: memory, GC, alerts, /health and /metrics. Started early to watch the model load.
  const health = new HealthModule(runtime, {
    inference: () => {
      const loop = recognition.status.loop;
      return (
        loop && { msP50: loop.ms_per_analysed_frame_p50, msP95: loop.ms_per_analysed_frame_p95 }
      );
    },
  });
  daemon.add(health);

  // 3. The face model, loaded once.
  daemon.add(visionModule(vision, () => health.setVision(engineProbe(vision))));

  // 4. MQTT (presence, outbox delivery, requests): connected before punches flow.
  const mqtt = createMqttModule(runtime);
  mqtt.setEnroller(visionEnroller(runtime, vision));
  mqtt.onRosterChanged(() => recognition.reloadMatcher());
  mqtt.setReloadHandler(async () => {
    recognition.reloadMatcher();
    return ['templates'];
  });
  mqtt.setHeartbeatSource(() => health.heartbeat() ?? {});
  daemon.add(mqtt);

  // 5. The camera and the recognition loop: punches start here.
  daemon.add(recognition);

  // 6. Scheduled jobs: the daily summary (catching up a day missed while stopped), retention.
  for (const job of jobModules(runtime)) daemon.add(job);

  // 7. systemd last: READY=1 once everything above is up; the first to stop (STOPPING=1).
  daemon.add(
    new SystemdModule(runtime, {
      cameraState: () => health.monitor.cameraStateNow,
      statusLine: () => health.statusLine(),
      statusEveryMs: runtime.config.heartbeat.interval_s * 1000,
    }),
  );

  return { daemon, runtime, vision, recognition, mqtt, health };
}
