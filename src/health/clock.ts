import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';

export interface ClockProbe {
  /** Present while systemd-timesyncd has synchronised the clock. */
  markerFile: string;
  /** `timedatectl`, asked for NTPSynchronized (covers chrony and ntpd under systemd too). */
  timedatectl: string;
}

export const systemClockProbe: ClockProbe = {
  markerFile: '/run/systemd/timesync/synchronized',
  timedatectl: 'timedatectl',
};

/**
 * Whether the system clock is synchronised to NTP: true or false when the system says, null
 * when it cannot tell (a container without systemd). Punch times are only as good as the
 * clock, so each event carries this, and an unsynchronised clock raises an alert.
 */
export async function readClockSync(probe: ClockProbe = systemClockProbe): Promise<boolean | null> {
  try {
    await access(probe.markerFile);
    return true;
  } catch {
    // No marker: timesyncd is not running or not synchronised; ask timedatectl.
  }
  // Without NOTIFY_SOCKET: a systemd tool that fails reports ERRNO= to that socket, which
  // systemd would read as the daemon's own state.
  const { NOTIFY_SOCKET: _socket, WATCHDOG_USEC: _usec, WATCHDOG_PID: _pid, ...env } = process.env;
  return new Promise((resolve) => {
    execFile(
      probe.timedatectl,
      ['show', '--property=NTPSynchronized', '--value'],
      { timeout: 2000, env },
      (err, stdout) => {
        const answer = stdout?.trim();
        if (!err && answer === 'yes') resolve(true);
        else if (!err && answer === 'no') resolve(false);
        else resolve(null);
      },
    );
  });
}

/** Keeps the latest answer, asking the system at most once per `everyMs`. */
export class ClockWatch {
  private synced: boolean | null = null;
  private checkedAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly probe: ClockProbe = systemClockProbe,
    private readonly everyMs = 60_000,
  ) {}

  /** The latest answer (null until known). */
  get current(): boolean | null {
    return this.synced;
  }

  async refresh(nowMs: number): Promise<boolean | null> {
    if (nowMs - this.checkedAtMs >= this.everyMs) {
      this.checkedAtMs = nowMs;
      this.synced = await readClockSync(this.probe);
    }
    return this.synced;
  }
}
