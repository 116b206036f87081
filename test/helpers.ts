import { type SpawnOptions, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { packageRoot } from '../src/paths.js';

export const root = packageRoot;
export const facesDir = join(root, 'test', 'fixtures', 'faces');
export const cliEntry = join(root, 'src', 'cli.ts');

/** A fresh temporary directory, removed when the test file ends. */
export function tempDir(prefix = 'presente-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function face(relative: string): string {
  return join(facesDir, relative);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment for a child CLI: no PRESENTE_* leaking in from the test runner's shell. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('PRESENTE_') && !k.startsWith('NODE_TEST')) env[k] = v;
  }
  return { ...env, ...extra };
}

/** Runs the real CLI (`presente ARGS`) in a child process and collects its output. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  options: SpawnOptions & { input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cliEntry, ...args], {
      cwd: options.cwd ?? root,
      env: cleanEnv(env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => {
      stdout += d;
    });
    child.stderr!.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin!.end(options.input ?? '');
  });
}
