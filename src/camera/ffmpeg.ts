import { type ChildProcess, spawn } from 'node:child_process';
import type { RgbImage } from './frame.js';
import { type FrameSource, SourceError } from './source.js';

export type FfmpegInput =
  | {
      kind: 'v4l2';
      device: string;
      /** mjpeg, yuyv422, ...; empty lets ffmpeg choose. */
      inputFormat: string;
    }
  | { kind: 'rtsp' | 'http'; url: string }
  | { kind: 'file'; path: string; realtime: boolean; loop: boolean };

export interface FfmpegOptions {
  input: FfmpegInput;
  width: number;
  height: number;
  fps: number;
  /** The ffmpeg binary; `ffmpeg` on the PATH by default. */
  binary?: string;
  /** Told the pid of each ffmpeg process started (status and tests). */
  onSpawn?: (pid: number) => void;
}

const KILL_GRACE_MS = 2000;
const STDERR_TAIL_BYTES = 4096;

function inputArgs(input: FfmpegInput, options: FfmpegOptions): string[] {
  switch (input.kind) {
    case 'v4l2':
      return [
        '-f',
        'v4l2',
        ...(input.inputFormat ? ['-input_format', input.inputFormat] : []),
        '-video_size',
        `${options.width}x${options.height}`,
        '-framerate',
        String(options.fps),
        '-i',
        input.device,
      ];
    case 'rtsp':
      // TCP: UDP loses packets on busy Wi-Fi and smears whole frames.
      return ['-rtsp_transport', 'tcp', '-i', input.url];
    case 'http':
      return ['-i', input.url];
    case 'file':
      return [
        ...(input.realtime ? ['-re'] : []),
        ...(input.loop ? ['-stream_loop', '-1'] : []),
        '-i',
        input.path,
      ];
  }
}

/**
 * The ffmpeg command line: one long-lived process that decodes the input and writes packed
 * RGB24 frames of exactly width x height to stdout, at the configured rate. The picture is
 * scaled to fit and padded, so a 16:9 stream keeps its proportions in a 4:3 frame.
 */
export function ffmpegArgs(options: FfmpegOptions): string[] {
  const { width, height, fps } = options;
  const filter = [
    `fps=${fps}`,
    `scale=${width}:${height}:force_original_aspect_ratio=decrease`,
    `pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2`,
  ].join(',');
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    ...inputArgs(options.input, options),
    '-an',
    '-sn',
    '-dn',
    '-vf',
    filter,
    '-pix_fmt',
    'rgb24',
    '-f',
    'rawvideo',
    'pipe:1',
  ];
}

/** A URL without its user name and password, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(invalid url)';
  }
}

function describe(input: FfmpegInput): string {
  switch (input.kind) {
    case 'v4l2':
      return `v4l2 ${input.device}`;
    case 'rtsp':
    case 'http':
      return `${input.kind} ${redactUrl(input.url)}`;
    case 'file':
      return `file ${input.path}`;
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1]?.trim() || 'no message';
}

function stopChild(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
  timer.unref();
  child.once('exit', () => clearTimeout(timer));
}

/** v4l2, rtsp, http and file sources: frames read from an ffmpeg pipe. */
export class FfmpegSource implements FrameSource {
  readonly description: string;
  readonly finite: boolean;

  constructor(private readonly options: FfmpegOptions) {
    this.description = describe(options.input);
    this.finite = options.input.kind === 'file' && !options.input.loop;
  }

  async *frames(signal: AbortSignal): AsyncGenerator<RgbImage> {
    const { width, height } = this.options;
    const frameBytes = width * height * 3;
    const child = spawn(this.options.binary ?? 'ffmpeg', ffmpegArgs(this.options), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });

    let spawnError: Error | undefined;
    let stderr = '';
    child.on('error', (err) => {
      spawnError = err;
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      stderr = (stderr + text).slice(-STDERR_TAIL_BYTES);
    });
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('close', (code, sig) => resolve({ code, signal: sig })),
    );
    if (child.pid !== undefined) this.options.onSpawn?.(child.pid);

    const onAbort = () => stopChild(child);
    signal.addEventListener('abort', onAbort, { once: true });

    let frame = Buffer.allocUnsafe(frameBytes);
    let filled = 0;
    let produced = 0;
    try {
      for await (const chunk of child.stdout! as AsyncIterable<Buffer>) {
        let offset = 0;
        while (offset < chunk.length) {
          const n = Math.min(frameBytes - filled, chunk.length - offset);
          chunk.copy(frame, filled, offset, offset + n);
          filled += n;
          offset += n;
          if (filled === frameBytes) {
            const data = frame;
            frame = Buffer.allocUnsafe(frameBytes);
            filled = 0;
            produced++;
            yield { width, height, data };
          }
        }
      }

      const exit = await closed;
      if (signal.aborted) return;
      if (spawnError) throw new SourceError(`cannot start ffmpeg: ${spawnError.message}`);
      if (exit.code !== 0) {
        const how = exit.code === null ? `signal ${exit.signal}` : `code ${exit.code}`;
        throw new SourceError(`ffmpeg exited with ${how}: ${lastLine(stderr)}`);
      }
      if (filled > 0) throw new SourceError('the stream ended in the middle of a frame');
      if (produced === 0) throw new SourceError(`no frame decoded: ${lastLine(stderr)}`);
    } finally {
      signal.removeEventListener('abort', onAbort);
      stopChild(child);
    }
  }
}
