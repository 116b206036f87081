import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { freemem, totalmem } from 'node:os';
import { basename, resolve } from 'node:path';
import { PresenteError, UsageError } from '../errors.js';
import { loadTemplateKey } from '../privacy/crypto.js';
import { eraseTemplate } from '../privacy/erase.js';
import { countTemplates, listTemplates } from '../store/templates.js';
import { type DetectedFace, getVisionEngine, type VisionEngine } from '../vision/engine.js';
import { enrollUser, faceSize } from '../vision/enroll.js';
import { decodeImageFile, ImageError, imageLimits } from '../vision/image.js';
import { descriptorDistance, Matcher, matchSettings } from '../vision/matcher.js';
import { modelsFor, resolveModelsDir, verifyModel } from '../vision/models.js';
import type { Command, CommandContext } from './framework.js';
import { table } from './table.js';

/** The process-wide engine, with a loading line on stderr when a person is watching. */
function engine(ctx: CommandContext): VisionEngine {
  const vision = getVisionEngine(ctx.config.vision, ctx.logger);
  if (!ctx.json && process.stderr.isTTY) {
    const stop = vision.onProgress(({ step, total, name }) => {
      process.stderr.write(`\rloading face models ${step}/${total} (${name})\x1b[K`);
      if (step === total) {
        process.stderr.write('\r\x1b[K');
        stop();
      }
    });
  }
  return vision;
}

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

function boxJson(face: DetectedFace) {
  const { x, y, width, height } = face.box;
  return { x: round(x, 1), y: round(y, 1), width: round(width, 1), height: round(height, 1) };
}

/** Runs the engine over each file; a file that fails is reported and the rest go on. */
async function analyzeFiles(
  ctx: CommandContext,
  files: string[],
): Promise<{ file: string; faces?: DetectedFace[]; error?: string }[]> {
  const vision = engine(ctx);
  const results = [];
  for (const file of files) {
    try {
      const image = await decodeImageFile(file, imageLimits(ctx.config.vision));
      results.push({ file, faces: await vision.analyze(image) });
    } catch (err) {
      if (!(err instanceof ImageError)) throw err;
      results.push({ file, error: err.message });
    }
  }
  return results;
}

const PHOTO_EXTENSIONS = /\.(jpe?g|png|webp)$/i;

/** A photo given by name, or the photos of a folder in name order. */
function photosIn(path: string): string[] {
  if (!existsSync(path) || !statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((name) => PHOTO_EXTENSIONS.test(name))
    .sort()
    .map((name) => resolve(path, name));
}

const enrollCommand: Command = {
  name: 'enroll',
  summary:
    'Enroll face photos of a user (files, or folders of JPEG, PNG and WebP). Every photo ' +
    'must pass the quality gates; one refused photo enrolls nothing.',
  usage: '--user CODE IMAGE|FOLDER... [--largest] [--force]',
  positionals: [1, 100],
  json: true,
  options: {
    user: { type: 'string', description: 'user code (required)' },
    largest: { type: 'boolean', description: 'several faces in a photo: take the largest' },
    force: { type: 'boolean', description: 'enroll even if the face matches another user' },
  },
  async run(ctx) {
    const user = ctx.string('user');
    if (!user) throw new UsageError('presente enroll: --user CODE is required');
    const files = ctx.positionals.flatMap(photosIn);
    if (files.length === 0) throw new UsageError('presente enroll: no photos to enroll');
    const tty = !ctx.json && process.stderr.isTTY === true;
    const result = await enrollUser(
      ctx.store,
      engine(ctx),
      ctx.config.vision,
      loadTemplateKey(ctx.config),
      user,
      files,
      {
        largest: ctx.flag('largest'),
        force: ctx.flag('force'),
        ...(tty && {
          onPhoto: (index: number, total: number, file: string) =>
            process.stderr.write(
              `\rchecking photo ${index + 1}/${total} (${basename(file)})\x1b[K`,
            ),
        }),
      },
    ).finally(() => {
      if (tty) process.stderr.write('\r\x1b[K');
    });
    ctx.print(result, () =>
      [
        `enrolled ${result.templates.length} template(s) for ${result.user}`,
        ...result.templates.map(
          (t) =>
            `  #${t.id} ${basename(t.file)}: face ${t.quality.faceWidth} px, score ` +
            `${t.quality.score}, sharpness ${t.quality.sharpness}, yaw ${t.quality.yaw}°, ` +
            `roll ${t.quality.roll}°`,
        ),
      ].join('\n'),
    );
    return 0;
  },
};

const templatesList: Command = {
  name: 'templates list',
  summary: 'List face templates with their quality figures (never the descriptors).',
  json: true,
  options: { user: { type: 'string', description: 'only this user' } },
  run(ctx) {
    const templates = listTemplates(ctx.store, ctx.string('user'));
    ctx.print(templates, () =>
      table(
        ['id', 'user', 'size', 'score', 'sharpness', 'yaw', 'roll', 'encrypted', 'created'],
        templates.map((t) => [
          t.id,
          t.userCode,
          t.quality.faceWidth,
          t.quality.score,
          t.quality.sharpness,
          t.quality.yaw,
          t.quality.roll,
          t.encrypted ? 'yes' : 'no',
          t.createdAt,
        ]),
      ),
    );
    return 0;
  },
};

const templatesRemove: Command = {
  name: 'templates remove',
  summary: 'Erase face templates by id (see templates list).',
  usage: 'ID...',
  positionals: [1, 1000],
  json: true,
  run(ctx) {
    const ids = ctx.positionals.map((text) => {
      const id = Number(text);
      if (!Number.isInteger(id) || id <= 0) throw new UsageError(`'${text}' is not a template id`);
      return id;
    });
    const known = new Set(listTemplates(ctx.store).map((t) => t.id));
    const missing = ids.filter((id) => !known.has(id));
    if (missing.length > 0) {
      throw new PresenteError(`no template with id ${missing.join(', ')}; nothing removed`);
    }
    for (const id of ids) eraseTemplate(ctx.store, id, ctx.logger);
    ctx.print({ removed: ids }, () => `removed template(s) ${ids.join(', ')}`);
    return 0;
  },
};

const embedCommand: Command = {
  name: 'embed',
  summary: 'Detect faces in images and print their boxes, scores and 128-d descriptors.',
  usage: 'IMAGE... --json',
  positionals: [1, 1000],
  json: true,
  async run(ctx) {
    const results = await analyzeFiles(ctx, ctx.positionals);
    const json = results.map(({ file, faces, error }) =>
      error
        ? { file, error }
        : {
            file,
            faces: (faces ?? []).map((face) => ({
              box: boxJson(face),
              score: round(face.score),
              descriptor: face.descriptor ? Array.from(face.descriptor) : null,
            })),
          },
    );
    // Descriptors are biometric data: printed only on request, as JSON, never in a log.
    ctx.print(json, () =>
      results
        .map(({ file, faces, error }) =>
          error
            ? error
            : `${file}: ${faces?.length ?? 0} face(s) ` +
              (faces ?? []).map((f) => `[${faceLine(f)}]`).join(' ') +
              ' (descriptors with --json)',
        )
        .join('\n'),
    );
    return results.some((r) => r.error) ? 1 : 0;
  },
};

const yesNo = (flag: boolean) => (flag ? 'yes' : 'no');

function faceLine(face: DetectedFace): string {
  const { x, y, width, height } = face.box;
  const size = `${Math.round(width)}x${Math.round(height)}`;
  return `${Math.round(x)},${Math.round(y)} ${size} score ${face.score.toFixed(2)}`;
}

const finite = (value: number) => (Number.isFinite(value) ? round(value) : null);

const identifyCommand: Command = {
  name: 'identify',
  summary: 'Identify the faces in images against the enrolled templates.',
  usage: 'IMAGE... [--json]',
  positionals: [1, 1000],
  json: true,
  async run(ctx) {
    const vision = engine(ctx);
    const { modelId } = await vision.load();
    const matcher = Matcher.fromStore(
      ctx.store,
      loadTemplateKey(ctx.config),
      matchSettings(ctx.config.vision),
      modelId,
    );
    const results = await analyzeFiles(ctx, ctx.positionals);
    const json = results.map(({ file, faces, error }) =>
      error
        ? { file, error }
        : {
            file,
            faces: (faces ?? []).map((face) => {
              const match = face.descriptor ? matcher.match(face.descriptor) : null;
              return {
                box: boxJson(face),
                score: round(face.score),
                user: match?.userCode ?? null,
                distance: match ? finite(match.distance) : null,
                margin: match ? finite(match.margin) : null,
              };
            }),
          },
    );
    ctx.print(json, () =>
      json
        .map((r) =>
          'error' in r
            ? r.error
            : `${r.file}: ${r.faces.length} face(s)\n` +
              r.faces
                .map(
                  (f) =>
                    `  ${f.user ?? 'unknown'}  distance ${f.distance ?? '-'}  margin ` +
                    `${f.margin ?? '-'}  box ${f.box.x},${f.box.y} ${f.box.width}x${f.box.height}`,
                )
                .join('\n'),
        )
        .join('\n'),
    );
    return results.some((r) => r.error) ? 1 : 0;
  },
};

const compareCommand: Command = {
  name: 'compare',
  summary: 'Distance between the largest faces of two images, and whether it is a match.',
  usage: 'A B [--json]',
  positionals: [2, 2],
  json: true,
  async run(ctx) {
    const results = await analyzeFiles(ctx, ctx.positionals);
    const descriptors = results.map(({ file, faces, error }) => {
      if (error) throw new PresenteError(error);
      const described = (faces ?? []).filter((f) => f.descriptor);
      if (described.length === 0) throw new PresenteError(`${file}: no face found`);
      return described.reduce((a, b) => (faceSize(b) > faceSize(a) ? b : a)).descriptor!;
    });
    const distance = descriptorDistance(descriptors[0]!, descriptors[1]!);
    const threshold = ctx.config.vision.match_threshold;
    const json = { distance: round(distance), same: distance <= threshold };
    ctx.print(
      json,
      () =>
        `distance ${json.distance}: ${json.same ? 'same person' : 'different people'} ` +
        `(vision.match_threshold ${threshold})`,
    );
    return 0;
  },
};

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

function which(program: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Check the face models and their sums, backend, database, data directory, tools.',
  json: true,
  async run(ctx) {
    const { config } = ctx;
    const checks: Check[] = [];
    const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });

    const dir = resolveModelsDir(config.vision.models_dir);
    let modelsOk = true;
    for (const name of modelsFor(config.vision.detector)) {
      try {
        const model = verifyModel(dir, name);
        const sums = [model.manifestFile, ...model.weightFiles].map(
          (f) => `${basename(f.file)} ${f.sha256.slice(0, 16)}…`,
        );
        add(`model ${name}`, true, `sha256 ok: ${sums.join(', ')}`);
      } catch (err) {
        modelsOk = false;
        add(`model ${name}`, false, (err as Error).message);
      }
    }

    if (modelsOk) {
      try {
        const info = await engine(ctx).load();
        add(
          'backend',
          true,
          `${info.backend} (simd ${yesNo(info.simd)}, threads ${yesNo(info.threads)}),` +
            ` detector ${info.detector}, tfjs ${info.tfjsVersion}, face-api ` +
            `${info.faceApiVersion}, loaded in ${info.loadMs} ms`,
        );
        add('model id', true, info.modelId);
      } catch (err) {
        add('backend', false, (err as Error).message);
      }
    }

    try {
      const templates = countTemplates(ctx.store);
      add('database', true, `${resolve(config.data.dir)}: ${templates} face template(s)`);
    } catch (err) {
      add('database', false, (err as Error).message);
    }

    const dataDir = resolve(config.data.dir);
    add('data directory', existsSync(dataDir) && statSync(dataDir).isDirectory(), dataDir);

    const freeMb = Math.round(freemem() / 2 ** 20);
    add(
      'free memory',
      freeMb >= 256,
      `${freeMb} MB free of ${Math.round(totalmem() / 2 ** 20)} MB`,
    );

    // A tool or a device is only required by the camera sources that use it.
    const source = config.camera.source;
    const needs = {
      ffmpeg: source !== 'images' && source !== 'webcam',
      fswebcam: source === 'webcam',
    };
    for (const program of ['ffmpeg', 'fswebcam'] as const) {
      const path = which(program);
      const needed = needs[program];
      add(
        program,
        path !== null || !needed,
        path ?? `not found on PATH${needed ? '' : ' (not needed)'}`,
      );
    }

    const devices = existsSync('/dev')
      ? readdirSync('/dev').filter((name) => /^video\d+$/.test(name))
      : [];
    const needsDevice = source === 'v4l2' || source === 'webcam';
    add(
      'camera devices',
      devices.length > 0 || !needsDevice,
      devices.length > 0
        ? devices.map((d) => `/dev/${d}`).join(', ')
        : `no /dev/video*${needsDevice ? ` (camera.source is ${source})` : ' (not needed)'}`,
    );

    const ok = checks.every((c) => c.ok);
    ctx.print({ ok, checks }, () =>
      checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(34)} ${c.detail}`).join('\n'),
    );
    return ok ? 0 : 1;
  },
};

export const visionCommands: Command[] = [
  enrollCommand,
  templatesList,
  templatesRemove,
  embedCommand,
  identifyCommand,
  compareCommand,
  doctorCommand,
];
