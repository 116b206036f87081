import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { PresenteError, UsageError } from '../errors.js';
import type { HealthResponse } from '../health/http.js';
import { databaseSizeMb, diskFreeMb } from '../health/monitor.js';
import { softwareVersions } from '../health/versions.js';
import { lastAttendanceAt } from '../store/attendance.js';
import { DATABASE_FILE, openDatabase } from '../store/db.js';
import { pendingCount } from '../store/outbox.js';
import type { Command, CommandContext } from './framework.js';

const DEFAULT_TIMEOUT_MS = 5000;

/** The daemon's HTTP address as a client sees it: a wildcard bind is reached on loopback. */
export function daemonUrl(config: Config, path: string): string {
  const { host, port } = config.http;
  const reachable = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const hostPart = reachable.includes(':') ? `[${reachable}]` : reachable;
  return `http://${hostPart}:${port}${path}`;
}

function timeoutMs(ctx: CommandContext): number {
  const text = ctx.string('timeout');
  if (text === undefined) return DEFAULT_TIMEOUT_MS;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`--timeout: expected seconds greater than 0, got '${text}'`);
  }
  return seconds * 1000;
}

interface Fetched {
  status: number;
  body: unknown;
}

/** GETs a daemon endpoint; null when nothing answers (not running, wrong port, timeout). */
async function fetchDaemon(url: string, timeout: number): Promise<Fetched | null | Error> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeout) });
    const text = await res.text();
    try {
      return { status: res.status, body: JSON.parse(text) };
    } catch {
      return new Error(`${url} answered ${res.status} with something that is not JSON`);
    }
  } catch {
    return null;
  }
}

function requireHttp(config: Config, command: string): void {
  if (!config.http.enabled) {
    throw new PresenteError(
      `presente ${command} asks the daemon over HTTP, and http.enabled is false`,
    );
  }
}

const TIMEOUT_OPTION = {
  timeout: { type: 'string' as const, description: 'seconds to wait for the daemon (5)' },
};

const healthCommand: Command = {
  name: 'health',
  summary:
    "Ask the running daemon whether it is healthy: exit 0 if so, 1 if not (Docker's HEALTHCHECK).",
  json: true,
  options: TIMEOUT_OPTION,
  async run(ctx) {
    requireHttp(ctx.config, 'health');
    const url = daemonUrl(ctx.config, '/health');
    const answer = await fetchDaemon(url, timeoutMs(ctx));

    if (answer === null || answer instanceof Error) {
      const reason =
        answer === null ? `no answer from the daemon at ${url}` : (answer as Error).message;
      ctx.print({ status: 'unreachable', reasons: [reason] }, () => `unhealthy: ${reason}`);
      return 1;
    }
    const body = answer.body as HealthResponse;
    const healthy = answer.status === 200;
    ctx.print(body, () =>
      healthy ? 'healthy' : `unhealthy: ${(body.reasons ?? []).join('; ') || answer.status}`,
    );
    return healthy ? 0 : 1;
  },
};

/** What can be told without the daemon: the files it would report on. */
function localStatus(config: Config): Record<string, unknown> {
  const dataDir = resolve(config.data.dir);
  const versions = softwareVersions();
  let outboxPending: number | null = null;
  let lastPunchAt: string | null = null;
  if (existsSync(join(dataDir, DATABASE_FILE))) {
    const db = openDatabase(dataDir, { readonly: true, busyTimeoutMs: 1000 });
    try {
      outboxPending = pendingCount(db);
      lastPunchAt = lastAttendanceAt(db);
    } catch {
      // A database that was never migrated has no outbox yet.
    } finally {
      db.close();
    }
  }
  return {
    daemon: 'not running',
    terminal_id: config.terminal.id,
    data_dir: dataDir,
    disk_free_mb: round(diskFreeMb(dataDir)),
    db_size_mb: round(databaseSizeMb(dataDir)),
    outbox_pending: outboxPending,
    last_attendance_at: lastPunchAt,
    version: versions.presente,
    node_version: versions.node,
    tfjs_version: versions.tfjs,
    face_api_version: versions.face_api,
  };
}

function round(value: number | null): number | null {
  return value === null ? null : Math.round(value * 100) / 100;
}

function render(status: Record<string, unknown>): string {
  const width = Math.max(...Object.keys(status).map((k) => k.length));
  return Object.entries(status)
    .map(([key, value]) => `${key.padEnd(width)}  ${value === null ? '-' : String(value)}`)
    .join('\n');
}

const statusCommand: Command = {
  name: 'status',
  summary:
    'Show the health figures of the running daemon (the heartbeat), or what the files tell ' +
    'when it is not running.',
  json: true,
  options: TIMEOUT_OPTION,
  async run(ctx) {
    const config = ctx.config;
    let status: Record<string, unknown>;
    const answer = config.http.enabled
      ? await fetchDaemon(daemonUrl(config, '/status'), timeoutMs(ctx))
      : null;

    if (answer instanceof Error) throw new PresenteError(answer.message);
    if (answer && answer.status === 200) {
      status = { daemon: 'running', ...(answer.body as Record<string, unknown>) };
    } else if (answer) {
      status = { ...localStatus(config), daemon: 'starting' };
    } else {
      status = localStatus(config);
    }
    ctx.print(status, () => render(status));
    return 0;
  },
};

export const healthCommands: Command[] = [statusCommand, healthCommand];
