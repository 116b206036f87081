import type { IPublishPacket } from 'mqtt';
import { z } from 'zod';
import type { Config } from '../config/schema.js';
import { errorMessage, PresenteError } from '../errors.js';
import type { Logger } from '../log.js';
import { eraseUser } from '../privacy/erase.js';
import type { Db } from '../store/db.js';
import { truncateWal } from '../store/erasure.js';
import { listUsers, removeUser, upsertUser } from '../store/users.js';
import {
  isRequestName,
  type RequestName,
  type ResponseErrorCode,
  type ResponsePayload,
} from './topics.js';

/** Adds face templates for a user from one JPEG; supplied by the vision module. */
export type Enroller = (
  userCode: string,
  jpeg: Buffer,
) => Promise<{ templates: number } & Record<string, unknown>>;

export interface RequestHooks {
  /** The answer to `status`. */
  status(): Record<string, unknown>;
  /** What `reload` does; returns the names of what was reloaded. */
  reload(): Promise<string[]>;
  /** Enrollment, when the vision module is there. */
  enroller(): Enroller | undefined;
  /** Users or templates changed (matchers reload their gallery). */
  rosterChanged(): void;
}

const requestId = z.string().min(1).max(128);
const userCode = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, {
  message: 'expected letters, digits, _ . or - (1 to 64)',
});
const userSchema = z.strictObject({
  code: userCode,
  name: z.string().trim().min(1).max(200),
  role: z.string().min(1).max(100).nullish(),
  shift: z.string().min(1).max(100).nullish(),
  active: z.boolean().optional(),
});
/** Base64 only; the decoded size is checked against the request limit too. */
const base64 = z
  .string()
  .min(4)
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, { message: 'expected base64' });

const requestSchemas = {
  status: z.strictObject({ id: requestId }),
  user_upsert: z.strictObject({ id: requestId, user: userSchema }),
  user_remove: z.strictObject({ id: requestId, code: userCode }),
  enroll: z.strictObject({ id: requestId, code: userCode, image: base64 }),
  sync_roster: z.strictObject({
    id: requestId,
    users: z.array(userSchema).max(100_000),
    /** Users missing from the list are removed (and their templates erased). */
    remove_missing: z.boolean().default(false),
  }),
  reload: z.strictObject({ id: requestId }),
} satisfies Record<RequestName, z.ZodType>;

type RequestOf<N extends RequestName> = z.infer<(typeof requestSchemas)[N]>;

class RequestError extends Error {
  constructor(
    readonly code: ResponseErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface Reply {
  /** Where the answer goes: the MQTT 5 response topic, else `response/<name>`. */
  topic: string;
  payload: ResponsePayload;
  correlationData?: Buffer;
}

/**
 * Answers requests. Every request is checked for size, JSON and shape before anything is
 * touched; a failure is an error response, never an exception, and a handler's database work
 * is one transaction, so a bad request leaves nothing half written. Retained requests are
 * ignored: a command stored on the broker would run again on every reconnect.
 */
export class RequestHandler {
  constructor(
    private readonly db: Db,
    private readonly config: Config,
    private readonly log: Logger,
    private readonly hooks: RequestHooks,
    private readonly responseTopic: (name: string) => string,
  ) {}

  /** The reply to one request message, or undefined when it is ignored. */
  async handle(name: string, payload: Buffer, packet: IPublishPacket): Promise<Reply | undefined> {
    if (packet.retain) {
      this.log.warn({ request: name }, 'ignored a retained request');
      return undefined;
    }
    const props = packet.properties;
    const validResponseTopic =
      typeof props?.responseTopic === 'string' && /^[^+#]+$/.test(props.responseTopic);
    const reply = (body: ResponsePayload): Reply => ({
      topic: validResponseTopic ? props!.responseTopic! : this.responseTopic(safeName(name)),
      payload: body,
      ...(props?.correlationData ? { correlationData: props.correlationData } : {}),
    });

    let id: string | null = null;
    try {
      const body = this.parse(payload);
      id = typeof body.id === 'string' ? body.id.slice(0, 128) : null;
      if (!isRequestName(name)) {
        throw new RequestError('unknown_request', `unknown request '${safeName(name)}'`);
      }
      const result = await this.run(name, body);
      this.log.info({ request: name, id }, 'request handled');
      return reply({ id, ok: true, result });
    } catch (err) {
      const code = err instanceof RequestError ? err.code : 'failed';
      const message = errorMessage(err);
      if (code === 'failed') this.log.error({ request: name, id, err }, 'request failed');
      else this.log.warn({ request: safeName(name), id, code, reason: message }, 'request refused');
      return reply({ id, ok: false, error: { code, message } });
    }
  }

  private parse(payload: Buffer): Record<string, unknown> {
    const limit = this.config.mqtt.max_request_bytes;
    if (payload.length > limit) {
      throw new RequestError(
        'too_large',
        `request is ${payload.length} bytes; the limit is ${limit} (mqtt.max_request_bytes)`,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      throw new RequestError('bad_json', 'request is not JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new RequestError('invalid', 'request must be a JSON object');
    }
    return body as Record<string, unknown>;
  }

  private validate<N extends RequestName>(name: N, body: unknown): RequestOf<N> {
    const parsed = requestSchemas[name].safeParse(body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (i) => `${i.path.length > 0 ? i.path.join('.') : '(request)'}: ${i.message}`,
      );
      throw new RequestError('invalid', problems.slice(0, 5).join('; '));
    }
    return parsed.data as RequestOf<N>;
  }

  private async run(name: RequestName, body: unknown): Promise<unknown> {
    switch (name) {
      case 'status':
        this.validate(name, body);
        return this.hooks.status();
      case 'user_upsert':
        return this.userUpsert(this.validate(name, body));
      case 'user_remove':
        return this.userRemove(this.validate(name, body));
      case 'enroll':
        return this.enroll(this.validate(name, body));
      case 'sync_roster':
        return this.syncRoster(this.validate(name, body));
      case 'reload':
        this.validate(name, body);
        return { reloaded: await this.hooks.reload() };
      default: {
        const never: never = name;
        throw new RequestError('unknown_request', `unknown request '${String(never)}'`);
      }
    }
  }

  private userUpsert(request: RequestOf<'user_upsert'>) {
    const changed = storeCall(() => upsertUser(this.db, request.user));
    if (changed) this.hooks.rosterChanged();
    return { code: request.user.code, changed };
  }

  private userRemove(request: RequestOf<'user_remove'>) {
    const outcome = storeCall(() => eraseUser(this.db, request.code, this.log), 'not_found');
    this.hooks.rosterChanged();
    return { code: request.code, outcome, templates_erased: true };
  }

  private async enroll(request: RequestOf<'enroll'>) {
    const enroller = this.hooks.enroller();
    if (!enroller) {
      throw new RequestError('unavailable', 'enrollment is not available on this terminal');
    }
    const jpeg = Buffer.from(request.image, 'base64');
    if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) {
      throw new RequestError('invalid', 'image: expected a base64 JPEG');
    }
    try {
      const result = await enroller(request.code, jpeg);
      this.hooks.rosterChanged();
      return { code: request.code, ...result };
    } catch (err) {
      if (err instanceof PresenteError) throw new RequestError('invalid', err.message);
      throw err;
    }
  }

  private syncRoster(request: RequestOf<'sync_roster'>) {
    const result = storeCall(() =>
      this.db
        .transaction(() => {
          let changed = 0;
          for (const user of request.users) if (upsertUser(this.db, user)) changed++;
          let removed = 0;
          if (request.remove_missing) {
            const listed = new Set(request.users.map((u) => u.code));
            for (const user of listUsers(this.db, { activeOnly: true })) {
              if (listed.has(user.code)) continue;
              removeUser(this.db, user.code);
              removed++;
            }
          }
          return { users: request.users.length, changed, removed };
        })
        .immediate(),
    );
    // Removed users' templates: drop the WAL's older copies of their pages too.
    if (result.removed > 0) truncateWal(this.db);
    if (result.changed > 0 || result.removed > 0) this.hooks.rosterChanged();
    return result;
  }
}

/** Store errors written for operators (unknown role, missing user) become refusals. */
function storeCall<T>(fn: () => T, code: ResponseErrorCode = 'invalid'): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof PresenteError) throw new RequestError(code, err.message);
    throw err;
  }
}

/** A request name fit to be a topic level and a log field. */
function safeName(name: string): string {
  return /^[a-z0-9_]{1,40}$/.test(name) ? name : 'unknown';
}
