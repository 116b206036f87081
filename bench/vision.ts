// Face engine figures: model load, detect+describe per detector on a 640x480 frame with one
// face, matching time against 100 to 10,000 templates, main-thread event-loop delay while
// frames are analysed, and the calibration behind the default threshold and gates.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import type { RgbImage } from '../src/camera/frame.js';
import { configSchema } from '../src/config/schema.js';
import { silentLogger } from '../src/log.js';
import { packageRoot } from '../src/paths.js';
import { createVisionEngine, type VisionEngine } from '../src/vision/engine.js';
import { decodeImageFile, faceSharpness } from '../src/vision/image.js';
import { Matcher, type TemplateEntry } from '../src/vision/matcher.js';

const RUNS = 50;
const faces = join(packageRoot, 'test', 'fixtures', 'faces');
const samples = join(packageRoot, 'node_modules', '@vladmandic', 'face-api', 'demo');
const noLimits = { maxBytes: Number.MAX_SAFE_INTEGER, maxPixels: Number.MAX_SAFE_INTEGER };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? Number.NaN;
}

function engineFor(detector: 'tiny' | 'ssd'): VisionEngine {
  return createVisionEngine(configSchema.parse({ vision: { detector } }).vision, silentLogger());
}

async function frame640(): Promise<RgbImage> {
  const { data, info } = await sharp(join(faces, 'scenes', 'obama_480p.jpg'))
    .resize(640, 480, { fit: 'cover' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

interface SpeedRow {
  detector: string;
  backend: string;
  loadMs: number;
  median: number;
  p95: number;
  loopP99: number;
  loopMax: number;
}

async function speed(detector: 'tiny' | 'ssd', frame: RgbImage): Promise<SpeedRow> {
  const engine = engineFor(detector);
  try {
    const info = await engine.load();
    for (let i = 0; i < 3; i++) await engine.analyze(frame);

    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const began = performance.now();
      const found = await engine.analyze(frame);
      times.push(performance.now() - began);
      if (found.length !== 1 || !found[0]?.descriptor) throw new Error('expected one face');
    }
    loop.disable();

    times.sort((a, b) => a - b);
    return {
      detector,
      backend: `${info.backend}${info.simd ? ' + SIMD' : ''}`,
      loadMs: info.loadMs,
      median: percentile(times, 0.5),
      p95: percentile(times, 0.95),
      loopP99: loop.percentile(99) / 1e6,
      loopMax: loop.max / 1e6,
    };
  } finally {
    await engine.close();
  }
}

function randomDescriptor(): Float32Array {
  const v = new Float32Array(128);
  let norm = 0;
  for (let k = 0; k < 128; k++) {
    v[k] = Math.random() * 2 - 1;
    norm += v[k]! * v[k]!;
  }
  for (let k = 0; k < 128; k++) v[k] = v[k]! / Math.sqrt(norm);
  return v;
}

function matching(templates: number): { median: number; p95: number } {
  // Five templates per user, as an enrollment of a few photos each gives.
  const entries: TemplateEntry[] = Array.from({ length: templates }, (_, i) => ({
    userId: Math.floor(i / 5),
    userCode: `u${Math.floor(i / 5)}`,
    descriptor: randomDescriptor(),
  }));
  const matcher = new Matcher(entries, { threshold: 0.55, margin: 0.1 });
  const probes = Array.from({ length: 50 }, randomDescriptor);
  for (const probe of probes) matcher.match(probe);

  const times: number[] = [];
  for (let round = 0; round < 10; round++) {
    for (const probe of probes) {
      const began = performance.now();
      matcher.match(probe);
      times.push(performance.now() - began);
    }
  }
  times.sort((a, b) => a - b);
  return { median: percentile(times, 0.5), p95: percentile(times, 0.95) };
}

// Who is in each scene, from the fixture README; every other scene shows Barack Obama.
const named: Record<string, string[]> = {
  'alex_lacamoire_alone.jpg': ['alex_lacamoire'],
  'kit_harington_alone.jpg': ['kit_harington'],
  'kit_harington_and_rose_leslie.jpg': ['kit_harington', 'rose_leslie'],
  'barack_obama_and_joe_biden.jpg': ['barack_obama', 'joe_biden'],
  'joe_biden_and_barack_obama_2.jpg': ['barack_obama', 'joe_biden'],
};

interface Calibration {
  detector: string;
  enrolled: number;
  namedFound: number;
  namedTotal: number;
  genuineMax: number;
  genuineMinMargin: number;
  impostorMin: number;
  sampleFaces: number;
  sharp: [number, number];
  blurred: [number, number];
}

/** Enrolls people/, then measures genuine and impostor distances on scenes and samples. */
async function calibrate(detector: 'tiny' | 'ssd'): Promise<Calibration> {
  const engine = engineFor(detector);
  try {
    const entries: TemplateEntry[] = [];
    const sharpness: number[] = [];
    const blurred: number[] = [];
    const people = readdirSync(join(faces, 'people'));
    for (const [userId, person] of people.entries()) {
      for (const file of readdirSync(join(faces, 'people', person))) {
        const image = await decodeImageFile(join(faces, 'people', person, file), noLimits);
        const found = await engine.analyze(image, { minFacePx: 0 });
        if (found.length !== 1 || !found[0]!.descriptor) continue;
        entries.push({ userId, userCode: person, descriptor: found[0]!.descriptor });
        sharpness.push(await faceSharpness(image, found[0]!.box));
        const blur = await sharp(image.data, {
          raw: { width: image.width, height: image.height, channels: 3 },
        })
          .blur(6)
          .raw()
          .toBuffer();
        blurred.push(await faceSharpness({ ...image, data: blur }, found[0]!.box));
      }
    }

    const matcher = new Matcher(entries, { threshold: 0.55, margin: 0.1 });
    let namedTotal = 0;
    let namedFound = 0;
    let genuineMax = 0;
    let genuineMinMargin = Number.POSITIVE_INFINITY;
    let impostorMin = Number.POSITIVE_INFINITY;
    for (const file of readdirSync(join(faces, 'scenes'))) {
      const want = named[file] ?? ['barack_obama'];
      const image = await decodeImageFile(join(faces, 'scenes', file), noLimits);
      const results = (await engine.analyze(image, { minFacePx: 0 })).map((f) =>
        matcher.match(f.descriptor!),
      );
      for (const person of want) {
        namedTotal++;
        const best = results
          .filter((r) => r.nearestUserCode === person)
          .sort((a, b) => a.distance - b.distance)[0];
        if (!best) continue;
        namedFound++;
        genuineMax = Math.max(genuineMax, best.distance);
        genuineMinMargin = Math.min(genuineMinMargin, best.margin);
      }
      for (const r of results) {
        if (!want.includes(r.nearestUserCode!)) impostorMin = Math.min(impostorMin, r.distance);
      }
    }

    let sampleFaces = 0;
    for (let i = 1; i <= 6; i++) {
      const image = await decodeImageFile(join(samples, `sample${i}.jpg`), noLimits);
      for (const f of await engine.analyze(image, { minFacePx: 0 })) {
        sampleFaces++;
        impostorMin = Math.min(impostorMin, matcher.match(f.descriptor!).distance);
      }
    }

    return {
      detector,
      enrolled: entries.length,
      namedFound,
      namedTotal,
      genuineMax,
      genuineMinMargin,
      impostorMin,
      sampleFaces,
      sharp: [Math.min(...sharpness), Math.max(...sharpness)],
      blurred: [Math.min(...blurred), Math.max(...blurred)],
    };
  } finally {
    await engine.close();
  }
}

const ms = (value: number) => value.toFixed(1);
const us = (value: number) => (value * 1000).toFixed(0);

export async function run(): Promise<string> {
  const frame = await frame640();
  const speeds = [await speed('tiny', frame), await speed('ssd', frame)];
  const matches = [100, 1_000, 10_000].map((n) => ({ n, ...matching(n) }));
  const calibrations = [await calibrate('tiny'), await calibrate('ssd')];

  const lines = [
    `Detect + landmarks + describe on a 640x480 frame with one face, ${RUNS} runs after 3 ` +
      'warm-up runs, in the vision worker; event-loop delay measured on the main thread ' +
      'meanwhile.',
    '',
    '| detector | backend | model load ms | median ms | p95 ms | main loop delay p99 ms | max ms |',
    '|---|---|---|---|---|---|---|',
    ...speeds.map(
      (s) =>
        `| ${s.detector} | ${s.backend} | ${s.loadMs} | ${ms(s.median)} | ${ms(s.p95)} | ` +
        `${ms(s.loopP99)} | ${ms(s.loopMax)} |`,
    ),
    '',
    'Matching one descriptor against every template (one Float32Array, best per user), ' +
      '500 matches each:',
    '',
    '| templates | median µs | p95 µs |',
    '|---|---|---|',
    ...matches.map((m) => `| ${m.n.toLocaleString('en')} | ${us(m.median)} | ${us(m.p95)} |`),
    '',
    'Calibration on the fixtures: people/ enrolled, every scene and the six face-api sample ' +
      'photos identified (distances are Euclidean between 128-d descriptors):',
    '',
    '| detector | photos enrolled | named faces found | largest genuine distance | ' +
      'smallest genuine margin | smallest impostor distance | sample faces | sharpness ' +
      'enrolled | sharpness blurred σ=6 |',
    '|---|---|---|---|---|---|---|---|---|',
    ...calibrations.map(
      (c) =>
        `| ${c.detector} | ${c.enrolled}/11 | ${c.namedFound}/${c.namedTotal} | ` +
        `${c.genuineMax.toFixed(3)} | ${c.genuineMinMargin.toFixed(3)} | ` +
        `${c.impostorMin.toFixed(3)} | ${c.sampleFaces} | ${c.sharp[0].toFixed(0)}–` +
        `${c.sharp[1].toFixed(0)} | ${c.blurred[0].toFixed(0)}–${c.blurred[1].toFixed(0)} |`,
    ),
  ];
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${await run()}\n`);
}
