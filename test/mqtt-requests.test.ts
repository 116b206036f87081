import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { IClientPublishOptions } from 'mqtt';
import { silentLogger } from '../src/log.js';
import { visionEnroller } from '../src/mqtt/enroll.js';
import type { ResponsePayload } from '../src/mqtt/topics.js';
import { sealDescriptor } from '../src/privacy/crypto.js';
import { outboxCounts } from '../src/store/outbox.js';
import { countTemplates, insertTemplate } from '../src/store/templates.js';
import { findUser } from '../src/store/users.js';
import { getVisionEngine } from '../src/vision/engine.js';
import { face, tempDir } from './helpers.js';
import { Mosquitto, waitFor } from './mosquitto.js';
import { inProcessTerminal, Observer } from './mqtt-support.js';

describe('mqtt requests', () => {
  let broker: Mosquitto;
  let terminal: Awaited<ReturnType<typeof inProcessTerminal>>;
  let client: Observer;
  let nextId = 0;

  before(async () => {
    broker = await Mosquitto.start();
    terminal = await inProcessTerminal(tempDir(), broker.url);
    await terminal.module.start(new AbortController().signal);
    client = await Observer.connect(broker.url);
    await client.subscribe('presente/door-1/response/+');
    await client.subscribe('central/replies/#');
    await waitFor(() => terminal.module.connected, 'the terminal');
    // Requests are subscribed right after the connection; a status round trip proves it.
    await waitFor(async () => {
      const id = `probe-${nextId++}`;
      await send('status', JSON.stringify({ id }));
      await new Promise((r) => setTimeout(r, 100));
      return responses('status').some((r) => r.id === id);
    }, 'the request subscription');
  });

  after(async () => {
    await client.close();
    await terminal.close();
    await broker.stop();
  });

  function responses(name: string): ResponsePayload[] {
    return client.on(`presente/door-1/response/${name}`).map((m) => m.json() as ResponsePayload);
  }

  function send(name: string, payload: string | Buffer, options: IClientPublishOptions = {}) {
    return client.client.publishAsync(`presente/door-1/request/${name}`, payload, {
      qos: 1,
      ...options,
    });
  }

  /** Sends a request with a fresh id and returns its response. */
  async function ask(name: string, body: Record<string, unknown>): Promise<ResponsePayload> {
    const id = `r${nextId++}`;
    await send(name, JSON.stringify({ id, ...body }));
    await waitFor(() => responses(name).some((r) => r.id === id), `the response to ${id}`);
    return responses(name).find((r) => r.id === id)!;
  }

  /** Sends a payload that carries no usable id and returns the next response on that name. */
  async function askRaw(name: string, payload: string | Buffer): Promise<ResponsePayload> {
    const before = responses(name).length;
    await send(name, payload);
    await waitFor(() => responses(name).length > before, `a response on ${name}`);
    return responses(name)[before]!;
  }

  function assertError(response: ResponsePayload, code: string): string {
    assert.equal(response.ok, false, JSON.stringify(response));
    if (response.ok) throw new Error('unreachable');
    assert.equal(response.error.code, code, response.error.message);
    return response.error.message;
  }

  test('status answers with the request id echoed', async () => {
    const response = await ask('status', {});
    assert.equal(response.ok, true);
    if (!response.ok) return;
    const result = response.result as Record<string, unknown>;
    assert.equal(result.terminal_id, 'door-1');
    assert.equal(typeof result.outbox_pending, 'number');
  });

  test('MQTT 5 response topic and correlation data are honoured', async () => {
    const correlationData = Buffer.from('corr-42');
    await send('status', JSON.stringify({ id: 'with-props' }), {
      properties: { responseTopic: 'central/replies/door-1', correlationData },
    });
    const reply = await client.waitFor('central/replies/door-1', () => true, 'the reply');
    assert.equal((reply.json() as ResponsePayload).id, 'with-props');
    assert.deepEqual(reply.packet.properties?.correlationData, correlationData);
  });

  test('user_upsert adds a user; refused input writes nothing', async () => {
    const ok = await ask('user_upsert', { user: { code: 'E100', name: 'Grace Hopper' } });
    assert.deepEqual(ok.ok && ok.result, { code: 'E100', changed: true });
    assert.equal(findUser(terminal.db, 'E100')?.name, 'Grace Hopper');

    const wrongTypes = await ask('user_upsert', { user: { code: 5, name: ['x'] } });
    assert.match(assertError(wrongTypes, 'invalid'), /user\.code/);

    const noRole = await ask('user_upsert', { user: { code: 'E101', name: 'X', role: 'nope' } });
    assert.match(assertError(noRole, 'invalid'), /role 'nope' does not exist/);
    assert.equal(findUser(terminal.db, 'E101'), undefined);

    const extra = await ask('user_upsert', { user: { code: 'E102', name: 'Y' }, admin: true });
    assertError(extra, 'invalid');
    assert.equal(findUser(terminal.db, 'E102'), undefined);
  });

  test('malformed requests are answered with errors', async () => {
    assertError(await askRaw('status', 'not json {'), 'bad_json');
    assertError(await askRaw('status', '[1,2,3]'), 'invalid');
    assertError(await askRaw('user_remove', JSON.stringify({ id: 7, code: 'E001' })), 'invalid');
    assert.ok(findUser(terminal.db, 'E001')?.active);

    const huge = Buffer.alloc(10 * 1024 * 1024, 0x20);
    const tooLarge = await askRaw('user_upsert', huge);
    assert.match(assertError(tooLarge, 'too_large'), /10485760 bytes/);

    const unknown = await ask('launch_rockets', {});
    assert.match(assertError(unknown, 'unknown_request'), /unknown request 'launch_rockets'/);
  });

  test('a retained request is ignored and has no effect', async () => {
    const body = JSON.stringify({ id: 'retained-1', user: { code: 'E200', name: 'Ret' } });
    await send('user_upsert', body, { retain: true });
    // Requests are answered in order: once the next one is answered, the retained one is past.
    await ask('user_upsert', { user: { code: 'E201', name: 'Live' } });
    assert.ok(!responses('user_upsert').some((r) => r.id === 'retained-1'));
    assert.equal(findUser(terminal.db, 'E200'), undefined);
    assert.ok(findUser(terminal.db, 'E201'));
    await send('user_upsert', '', { retain: true });
  });

  test('user_remove erases the templates; a missing user is not_found', async () => {
    await ask('user_upsert', { user: { code: 'E300', name: 'Templated' } });
    const user = findUser(terminal.db, 'E300')!;
    const stored = sealDescriptor(new Float32Array(128).fill(0.1), null);
    insertTemplate(terminal.db, user.id, stored, 'test-model', {});
    assert.equal(countTemplates(terminal.db), 1);

    const removed = await ask('user_remove', { code: 'E300' });
    assert.equal(removed.ok && (removed.result as { outcome: string }).outcome, 'deleted');
    assert.equal(countTemplates(terminal.db), 0);
    assert.equal(findUser(terminal.db, 'E300'), undefined);

    assertError(await ask('user_remove', { code: 'E300' }), 'not_found');
  });

  test('sync_roster is all or nothing', async () => {
    const bad = await ask('sync_roster', {
      users: [
        { code: 'S1', name: 'One' },
        { code: 'S2', name: 'Two', shift: 'no-such-shift' },
      ],
    });
    assertError(bad, 'invalid');
    assert.equal(findUser(terminal.db, 'S1'), undefined);

    const good = await ask('sync_roster', {
      users: [
        { code: 'S1', name: 'One' },
        { code: 'E001', name: 'Ada Lovelace' },
      ],
      remove_missing: true,
    });
    assert.equal(good.ok, true, JSON.stringify(good));
    const result = good.ok ? (good.result as { changed: number; removed: number }) : undefined;
    assert.equal(result?.changed, 1);
    assert.ok((result?.removed ?? 0) >= 1);
    assert.ok(findUser(terminal.db, 'S1')?.active);
    assert.equal(findUser(terminal.db, 'E201')?.active ?? false, false);
  });

  test('enroll: refused until enrollment is available, then through the vision gates', async () => {
    const photo = readFileSync(face('people/barack_obama/1.jpg'));
    const image = photo.toString('base64');
    assertError(await ask('enroll', { code: 'S1', image }), 'unavailable');

    const engine = getVisionEngine(terminal.config.vision, silentLogger());
    after(() => engine.close());
    terminal.module.setEnroller(
      visionEnroller(
        {
          config: terminal.config,
          db: terminal.db,
          logger: silentLogger(),
          bus: terminal.bus,
          requestStop: () => undefined,
        },
        engine,
      ),
    );
    assertError(await ask('enroll', { code: 'S1', image: 'not base64!' }), 'invalid');
    assertError(await ask('enroll', { code: 'S1', image: 'aGVsbG8=' }), 'invalid');
    assertError(await ask('enroll', { code: 'NOBODY', image }), 'invalid');

    const enrolled = await ask('enroll', { code: 'S1', image });
    assert.equal(enrolled.ok, true, JSON.stringify(enrolled));
    assert.equal(enrolled.ok && (enrolled.result as { templates: number }).templates, 1);
    assert.equal(countTemplates(terminal.db), 1);
    // The response carries the outcome, never the photo or the descriptor.
    assert.ok(!JSON.stringify(enrolled).includes(image.slice(0, 40)));
  });

  test('after all that the terminal still delivers events', async () => {
    assert.equal(terminal.module.connected, true);
    await client.subscribe('presente/door-1/attendance');
    const events = terminal.record(5);
    await waitFor(() => outboxCounts(terminal.db).pending === 0, 'delivery');
    await waitFor(
      () => client.on('presente/door-1/attendance').length >= events.length,
      'the events on the wire',
    );
  });
});
