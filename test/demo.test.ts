import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { findBiometrics } from '../src/privacy/scan.js';
import { cleanEnv, cliEntry, root, tempDir } from './helpers.js';
import { attendanceValidator, Observer } from './mqtt-support.js';

describe('presente demo', () => {
  it('recognises the bundled performer once and delivers the event to the central side', async () => {
    const dataDir = tempDir();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', cliEntry, 'demo', '--json', '--data-dir', dataDir],
      { cwd: root, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));

    // The first line names the broker: listen to everything published on it, as an office
    // would, to check that nothing biometric ever leaves the terminal.
    const lines: Record<string, unknown>[] = [];
    let observer: Observer | undefined;
    for await (const line of createInterface({ input: child.stdout })) {
      const parsed = JSON.parse(line);
      lines.push(parsed);
      if (parsed.demo) {
        observer = await Observer.connect(parsed.demo.broker, { protocolVersion: 4 });
        await observer.subscribe('#');
      }
    }
    assert.equal(await exited, 0, stderr);
    assert.ok(observer, 'the demo named its broker');
    await observer.close();

    const summary = lines.at(-1)?.summary as Record<string, number>;
    const events = lines.slice(1, -1) as Record<string, unknown>[];

    // Exactly one punch: the performer who is close to the camera; nobody else in the clip.
    assert.equal(events.length, 1, JSON.stringify(lines));
    const [{ delay_ms: delay, ...event }] = events as [Record<string, unknown>];
    assert.equal((event.user as { code: string }).code, 'lin_manuel_miranda');
    assert.equal(event.kind, 'check_in');
    assert.equal(summary.events_recorded, 1);
    assert.equal(summary.events_received, 1);
    assert.ok(Number(delay) >= 0);
    assert.ok(summary.frames_analysed! > 0 && summary.frames_analysed! <= summary.frames_read!);

    // What the subscriber received is the published payload, valid against the schema.
    assert.deepEqual(attendanceValidator()(event), []);

    // Every payload on the broker: presence, heartbeat, the event; none biometric.
    const topics = new Set(observer.messages.map((m) => m.topic.split('/').at(-1)));
    for (const topic of ['status', 'attendance']) assert.ok(topics.has(topic), topic);
    for (const message of observer.messages) {
      const text = message.payload.toString('utf8');
      assert.deepEqual(findBiometrics(text), [], message.topic);
      assert.deepEqual(findBiometrics(message.payload), [], message.topic);
      assert.deepEqual(findBiometrics(JSON.parse(text)), [], message.topic);
    }

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
