import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../src/log.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).trim().split('\n'));
      done();
    },
  });
  return { lines, stream };
}

describe('logging', () => {
  it('writes JSON lines with the module of a child logger', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ level: 'info', format: 'json' }, stream);
    logger.child({ module: 'camera' }).info({ fps: 10 }, 'streaming');
    const line = JSON.parse(lines[0]!);
    assert.equal(line.module, 'camera');
    assert.equal(line.msg, 'streaming');
    assert.equal(line.fps, 10);
  });

  it('never writes a descriptor, an image or a password that reaches a log call', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ level: 'info', format: 'json' }, stream);
    const descriptor = Array.from({ length: 128 }, (_, i) => i / 1000);
    logger.info({ descriptor, face: { descriptor, image: 'AAAA' }, password: 'hunter2' }, 'oops');
    assert.doesNotMatch(lines[0]!, /0\.127|hunter2|AAAA/);
    assert.match(lines[0]!, /\[redacted\]/);
  });
});
