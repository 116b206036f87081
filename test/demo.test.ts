import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { findBiometrics } from '../src/privacy/scan.js';
import { runCli, tempDir } from './helpers.js';
import { attendanceValidator } from './mqtt-support.js';

describe('presente demo', () => {
  it('recognises the bundled performer once and delivers the event to the central side', async () => {
    const dataDir = tempDir();
    const result = await runCli(
      ['demo', '--json', '--data-dir', dataDir],
      {},
      { timeoutMs: 600_000 },
    );
    assert.equal(result.code, 0, result.stderr);

    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const summary = lines.at(-1).summary;
    const events = lines.slice(0, -1);

    // Exactly one punch: the performer who is close to the camera; nobody else in the clip.
    assert.equal(events.length, 1, result.stdout);
    const [event] = events;
    assert.equal(event.user.code, 'lin_manuel_miranda');
    assert.equal(event.kind, 'check_in');
    assert.equal(summary.events_recorded, 1);
    assert.equal(summary.events_received, 1);
    assert.ok(summary.frames_analysed > 0 && summary.frames_analysed <= summary.frames_read);

    // What the subscriber received is the published payload, valid against the documented schema.
    const { delay_ms: delay, ...published } = event;
    assert.ok(delay >= 0);
    assert.deepEqual(attendanceValidator()(published), []);
    assert.deepEqual(findBiometrics(published), []);

    // The terminal recorded it, and the central database holds the same event once.
    const terminal = new Database(join(dataDir, 'presente.db'), { readonly: true });
    const rows = terminal.prepare('SELECT id, kind FROM attendance').all();
    assert.deepEqual(rows, [{ id: event.event_id, kind: 'check_in' }]);
    const pending = terminal.prepare('SELECT count(*) AS n FROM outbox WHERE delivered_at IS NULL');
    assert.equal((pending.get() as { n: number }).n, 0);
    terminal.close();
    const central = new Database(join(dataDir, 'central.db'), { readonly: true });
    const stored = central.prepare('SELECT event_id FROM collected_events').all();
    assert.deepEqual(stored, [{ event_id: event.event_id }]);
    central.close();
  });
});
