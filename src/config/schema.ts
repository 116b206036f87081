import { z } from 'zod';
import { isValidTimeZone } from '../time.js';

/**
 * The one configuration schema. It gives the defaults, the validation, the TypeScript types,
 * the environment overrides (`PRESENTE_<SECTION>_<KEY>`) and the reference table in the
 * README. Every key lives exactly two levels deep, as `section.key`, so each has one
 * obvious environment variable.
 */

const hhmm = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'expected a time as HH:MM (00:00 to 23:59)' });

const positive = () => z.number().positive();
const nonNegativeInt = () => z.number().int().nonnegative();

export const configSchema = z.strictObject({
  terminal: z
    .strictObject({
      id: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,64}$/, { message: 'expected letters, digits, _ or - (1 to 64)' })
        .default('terminal-1')
        .describe('Terminal id: names the MQTT topics and the client id.'),
      timezone: z
        .string()
        .refine(isValidTimeZone, { message: 'expected an IANA time zone such as Europe/Madrid' })
        .default('UTC')
        .describe('IANA time zone of the door, used for shifts and reports (e.g. Europe/Madrid).'),
      camera_name: z
        .string()
        .default('door')
        .describe('Name of the camera recorded with each punch.'),
    })
    .prefault({}),

  data: z
    .strictObject({
      dir: z
        .string()
        .default('./data')
        .describe('Data directory: holds the SQLite database (presente.db).'),
    })
    .prefault({}),

  log: z
    .strictObject({
      level: z
        .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('info')
        .describe('Log level.'),
      format: z
        .enum(['auto', 'json', 'pretty'])
        .default('auto')
        .describe('auto: readable on a terminal, JSON lines otherwise (journald).'),
    })
    .prefault({}),

  database: z
    .strictObject({
      busy_timeout_ms: nonNegativeInt()
        .default(5000)
        .describe('How long a write waits for a lock held by another process.'),
    })
    .prefault({}),

  seeds: z
    .strictObject({
      dir: z
        .string()
        .default('')
        .describe('Folder of seed files (roles, shifts, users); empty means the bundled seeds/.'),
      on_start: z.boolean().default(true).describe('Run the seeds when the daemon starts.'),
    })
    .prefault({}),

  vision: z
    .strictObject({
      backend: z
        .enum(['auto', 'node', 'wasm', 'cpu'])
        .default('auto')
        .describe('auto: tfjs-node when installed, else WASM. cpu only when asked for.'),
      detector: z
        .enum(['tiny', 'ssd'])
        .default('ssd')
        .describe('Face detector: ssd finds more faces; tiny is about 3x faster.'),
      input_size: z
        .number()
        .int()
        .refine((n) => n % 32 === 0 && n >= 128 && n <= 1024, {
          message: 'expected a multiple of 32 between 128 and 1024',
        })
        .default(416)
        .describe('Input size of the tiny detector (multiple of 32).'),
      min_score: z.number().min(0).max(1).default(0.5).describe('Minimum detection score.'),
      min_face_px: positive()
        .default(60)
        .describe('Faces smaller than this (larger side of the box, pixels) are not described.'),
      match_threshold: positive()
        .default(0.55)
        .describe('Largest descriptor distance that can be a match.'),
      match_margin: z
        .number()
        .min(0)
        .default(0.1)
        .describe('The next user must be at least this much farther than the best.'),
      min_frames: z
        .number()
        .int()
        .min(1)
        .default(3)
        .describe('Consistent matches a face track needs before a punch is recorded.'),
      models_dir: z
        .string()
        .default('')
        .describe('Folder of model files; empty means the ones inside @vladmandic/face-api.'),
      enroll_min_face_px: positive().default(80).describe('Enrollment: minimum face size (px).'),
      enroll_min_score: z.number().min(0).max(1).default(0.6).describe('Enrollment: min score.'),
      enroll_min_sharpness: z
        .number()
        .min(0)
        .default(40)
        .describe('Enrollment: minimum variance of the Laplacian of the face.'),
      enroll_max_yaw_deg: positive().default(35).describe('Enrollment: largest head turn.'),
      enroll_max_roll_deg: positive().default(25).describe('Enrollment: largest head tilt.'),
      max_image_bytes: positive()
        .default(15 * 1024 * 1024)
        .describe('Largest image file accepted.'),
      max_image_pixels: positive()
        .default(40_000_000)
        .describe('Largest image (width x height) decoded.'),
    })
    .prefault({}),

  camera: z
    .strictObject({
      source: z
        .enum(['v4l2', 'rtsp', 'http', 'file', 'images', 'webcam'])
        .default('v4l2')
        .describe('Frame source.'),
      device: z.string().default('/dev/video0').describe('Device for v4l2 and webcam.'),
      url: z.string().default('').describe('Stream URL for rtsp and http.'),
      path: z.string().default('').describe('Video file (file) or folder of stills (images).'),
      realtime: z
        .boolean()
        .default(true)
        .describe('file and images: real-time pace; false reads as fast as frames are analysed.'),
      loop: z.boolean().default(false).describe('file and images: start again at the end.'),
      width: z.number().int().positive().default(640).describe('Frame width in pixels.'),
      height: z.number().int().positive().default(480).describe('Frame height in pixels.'),
      fps: positive().default(10).describe('Frames per second read from the source.'),
      input_format: z
        .string()
        .default('mjpeg')
        .describe('v4l2 input format (mjpeg, yuyv422, ...); empty lets ffmpeg choose.'),
      stall_s: positive().default(10).describe('No frame for this long: the source restarts.'),
      restart_max_s: positive().default(30).describe('Longest wait between restarts.'),
      motion_gate: z.boolean().default(true).describe('Skip analysis while nothing moves.'),
      motion_threshold: z
        .number()
        .min(0)
        .max(1)
        .default(0.01)
        .describe(
          'Share of the picture (sampled on an 80x60 grid) that must change to count as motion.',
        ),
    })
    .prefault({}),

  attendance: z
    .strictObject({
      mode: z
        .enum(['auto', 'in_only', 'out_only', 'toggle'])
        .default('auto')
        .describe('auto: first punch of a shift day is the check-in, later ones check-outs.'),
      duplicate_period_s: nonNegativeInt()
        .default(60)
        .describe('A second punch by the same person within this period is ignored.'),
      record_sightings: z
        .boolean()
        .default(false)
        .describe('Record unknown faces as sightings (time and camera only, never an image).'),
    })
    .prefault({}),

  mqtt: z
    .strictObject({
      url: z
        .string()
        .default('')
        .describe('Broker URL (mqtt:// or mqtts://); empty means no broker.'),
      base_topic: z.string().min(1).default('presente').describe('Topics live under base/id.'),
      protocol_version: z
        .union([z.literal(4), z.literal(5)])
        .default(5)
        .describe('MQTT protocol: 5, or 4 for 3.1.1.'),
      username: z.string().default('').describe('Broker user name.'),
      password: z.string().default('').describe('Broker password.'),
      password_file: z.string().default('').describe('File holding the broker password.'),
      ca_file: z.string().default('').describe('CA certificate (PEM) for mqtts://.'),
      cert_file: z.string().default('').describe('Client certificate (PEM).'),
      key_file: z.string().default('').describe('Client key (PEM).'),
      keepalive_s: positive().default(30).describe('Keepalive interval.'),
      session_expiry_s: nonNegativeInt()
        .default(7 * 24 * 3600)
        .describe('MQTT 5 session expiry.'),
      reconnect_min_ms: positive().default(1000).describe('First reconnect delay.'),
      reconnect_max_ms: positive().default(60_000).describe('Longest reconnect delay.'),
      delivery: z
        .enum(['broker', 'consumer'])
        .default('broker')
        .describe('broker: delivered on PUBACK. consumer: only on a central ack.'),
      embedded_broker: z
        .boolean()
        .default(false)
        .describe('Start an in-process broker on localhost when url is empty.'),
      embedded_port: nonNegativeInt().default(1883).describe('Port of the embedded broker.'),
      max_request_bytes: positive()
        .default(2 * 1024 * 1024)
        .describe('Largest request payload accepted.'),
      publish_images: z
        .boolean()
        .default(false)
        .describe('Allow images over MQTT (off: never sent).'),
      publish_descriptors: z
        .boolean()
        .default(false)
        .describe('Allow descriptors over MQTT (off: never sent).'),
      ha_discovery: z.boolean().default(false).describe('Publish Home Assistant discovery.'),
      ha_prefix: z.string().default('homeassistant').describe('Home Assistant discovery prefix.'),
    })
    .prefault({}),

  outbox: z
    .strictObject({
      max_rows: z.number().int().min(10).default(100_000).describe('Most rows kept in the outbox.'),
      warn_ratio: z
        .number()
        .gt(0)
        .max(1)
        .default(0.8)
        .describe('Alert when undelivered rows pass this share of max_rows.'),
      retry_min_ms: positive().default(1000).describe('First resend delay.'),
      retry_max_ms: positive().default(60_000).describe('Longest resend delay.'),
      batch: z.number().int().positive().default(100).describe('Events in flight at once.'),
    })
    .prefault({}),

  heartbeat: z
    .strictObject({
      interval_s: positive().default(30).describe('Seconds between heartbeats.'),
    })
    .prefault({}),

  memory: z
    .strictObject({
      sample_s: positive().default(5).describe('Seconds between health samples.'),
      soft_limit_mb: positive()
        .default(600)
        .describe('RSS at which work is shed and an alert is sent.'),
      hard_limit_mb: positive().default(900).describe('RSS at which the daemon stops gracefully.'),
      trend_window_s: positive().default(1800).describe('Window for the leak trend.'),
      leak_mb_per_hour: positive()
        .default(50)
        .describe('Sustained growth of heap-after-GC that counts as a leak.'),
      disk_min_free_mb: positive().default(200).describe('Alert below this free disk space.'),
    })
    .prefault({}),

  http: z
    .strictObject({
      enabled: z.boolean().default(true).describe('Serve /health and /metrics.'),
      host: z.string().default('127.0.0.1').describe('Address to bind.'),
      port: nonNegativeInt().default(8080).describe('Port to bind.'),
    })
    .prefault({}),

  summary: z
    .strictObject({
      enabled: z.boolean().default(true).describe('Publish a daily summary.'),
      time: hhmm.default('23:55').describe('Local time of the daily summary.'),
      day: z
        .enum(['current', 'previous'])
        .default('current')
        .describe('Day summarised: the one it runs on, or the previous (early-morning times).'),
    })
    .prefault({}),

  retention: z
    .strictObject({
      attendance_days: z
        .number()
        .int()
        .positive()
        .default(730)
        .describe('Attendance older than this is deleted.'),
      sightings_days: z.number().int().positive().default(30).describe('Sightings kept this long.'),
      schedule: z.string().default('17 3 * * *').describe('Cron schedule of the retention job.'),
      batch: z.number().int().positive().default(500).describe('Rows deleted per batch.'),
    })
    .prefault({}),

  privacy: z
    .strictObject({
      template_key_file: z
        .string()
        .default('')
        .describe('32-byte key file: encrypts descriptors at rest (AES-256-GCM).'),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type SectionName = keyof Config;
