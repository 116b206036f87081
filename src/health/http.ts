import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Logger } from '../log.js';
import { type HeartbeatFigures, METRIC_FIGURES } from './heartbeat.js';

/** What the server needs to answer: the latest figures and the health verdict. */
export interface HealthSource {
  /** Null until the first sample has been taken. */
  figures(): HeartbeatFigures | null;
  /** The reasons the terminal is unhealthy, checked at request time; empty when healthy. */
  reasons(): string[];
}

export interface HealthResponse {
  status: 'ok' | 'unhealthy';
  reasons: string[];
  uptime_s: number | null;
}

/** A gauge per numeric heartbeat figure, named after it (`presente_rss_mb`), set at scrape. */
function figureGauges(registry: Registry, source: HealthSource): void {
  new Gauge({
    name: 'presente_healthy',
    help: '1 when the terminal is healthy: the same verdict as /health',
    registers: [registry],
    collect() {
      this.set(source.reasons().length === 0 ? 1 : 0);
    },
  });

  for (const name of METRIC_FIGURES) {
    new Gauge({
      name: `presente_${name}`,
      help: `heartbeat figure ${name}`,
      registers: [registry],
      collect() {
        const value = source.figures()?.[name];
        if (typeof value === 'number' || typeof value === 'boolean') this.set(Number(value));
        else this.reset();
      },
    });
  }

  new Gauge({
    name: 'presente_camera_state',
    help: 'camera state: 1 for the current one',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      const figures = source.figures();
      if (figures) this.set({ state: figures.camera_state }, 1);
    },
  });
}

/**
 * Serves GET /health (200 or 503 with the reasons), GET /metrics (Prometheus text) and
 * GET /status (the heartbeat figures). Bound to 127.0.0.1 by default: these tell an attacker
 * about the terminal, so exposing them is an explicit choice.
 */
export class HealthServer {
  private server: Server | undefined;
  private readonly registry = new Registry();

  constructor(
    private readonly source: HealthSource,
    private readonly logger: Logger,
  ) {
    collectDefaultMetrics({ register: this.registry });
    this.registerFigures();
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.logger.error({ err, url: req.url }, 'health request failed');
        if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
      });
    });
    // Scrapers keep connections open; they must not hold the daemon up when it stops.
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    this.logger.info({ host: address.address, port: address.port }, 'health http listening');
    return address;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      send(res, 405, 'text/plain', 'method not allowed\n');
      return;
    }
    switch (path) {
      case '/health': {
        const reasons = this.source.reasons();
        const body: HealthResponse = {
          status: reasons.length === 0 ? 'ok' : 'unhealthy',
          reasons,
          uptime_s: this.source.figures()?.uptime_s ?? null,
        };
        sendJson(res, reasons.length === 0 ? 200 : 503, body);
        return;
      }
      case '/status': {
        const figures = this.source.figures();
        if (figures) sendJson(res, 200, figures);
        else sendJson(res, 503, { status: 'starting' });
        return;
      }
      case '/metrics':
        send(res, 200, this.registry.contentType, await this.registry.metrics());
        return;
      default:
        send(res, 404, 'text/plain', 'not found (try /health, /status or /metrics)\n');
    }
  }

  private registerFigures(): void {
    figureGauges(this.registry, this.source);
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json', `${JSON.stringify(body)}\n`);
}
