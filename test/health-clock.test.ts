import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ClockWatch, readClockSync } from '../src/health/clock.js';
import { tempDir } from './helpers.js';

/** A stand-in for timedatectl that answers as the real one does. */
function timedatectl(dir: string, answer: string): string {
  const file = join(dir, `timedatectl-${answer || 'broken'}`);
  const body = answer ? `echo ${answer}` : 'echo "Failed to connect to bus" >&2; exit 1';
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('clock synchronisation', () => {
  const dir = tempDir();
  const marker = join(dir, 'synchronized');

  it('is synchronised when timesyncd left its marker', async () => {
    writeFileSync(marker, '');
    const probe = { markerFile: marker, timedatectl: timedatectl(dir, 'no') };
    assert.equal(await readClockSync(probe), true);
  });

  it('asks timedatectl without a marker', async () => {
    const missing = join(dir, 'absent');
    assert.equal(
      await readClockSync({ markerFile: missing, timedatectl: timedatectl(dir, 'yes') }),
      true,
    );
    assert.equal(
      await readClockSync({ markerFile: missing, timedatectl: timedatectl(dir, 'no') }),
      false,
    );
  });

  it('cannot tell without timesyncd or a working timedatectl', async () => {
    const missing = join(dir, 'absent');
    assert.equal(
      await readClockSync({ markerFile: missing, timedatectl: timedatectl(dir, '') }),
      null,
    );
    assert.equal(
      await readClockSync({ markerFile: missing, timedatectl: join(dir, 'no-such-command') }),
      null,
    );
  });

  it('does not hand the notify socket to timedatectl, which would report ERRNO= on it', async () => {
    const script = join(dir, 'timedatectl-env');
    writeFileSync(script, '#!/bin/sh\n[ -z "$NOTIFY_SOCKET" ] && echo yes || echo leaked\n');
    chmodSync(script, 0o755);
    process.env.NOTIFY_SOCKET = join(dir, 'notify.sock');
    try {
      const probe = { markerFile: join(dir, 'absent'), timedatectl: script };
      assert.equal(await readClockSync(probe), true);
    } finally {
      delete process.env.NOTIFY_SOCKET;
    }
  });

  it('asks the system at most once per period', async () => {
    const flag = join(dir, 'flag');
    const watch = new ClockWatch({ markerFile: flag, timedatectl: timedatectl(dir, 'no') }, 1000);
    assert.equal(await watch.refresh(0), false);
    writeFileSync(flag, '');
    assert.equal(await watch.refresh(500), false, 'within the period the answer is kept');
    assert.equal(await watch.refresh(1000), true);
    assert.equal(watch.current, true);
  });
});
