-- The terminal's schema. Times are stored as UTC ISO 8601 text ('2026-12-03T08:59:12.345Z');
-- local wall-clock times of shifts as 'HH:MM' in the terminal's time zone.

CREATE TABLE roles (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Work shifts (turnos). A shift whose end is at or before its start runs overnight and ends
-- on the next day. weekdays is a bit mask of the days a shift starts on: bit 0 Monday ...
-- bit 6 Sunday.
CREATE TABLE shifts (
  id                    INTEGER PRIMARY KEY,
  name                  TEXT NOT NULL UNIQUE,
  start_time            TEXT NOT NULL CHECK (start_time GLOB '[0-2][0-9]:[0-5][0-9]' AND start_time < '24:00'),
  end_time              TEXT NOT NULL CHECK (end_time GLOB '[0-2][0-9]:[0-5][0-9]' AND end_time < '24:00'),
  weekdays              INTEGER NOT NULL DEFAULT 31 CHECK (weekdays BETWEEN 1 AND 127),
  late_grace_min        INTEGER NOT NULL DEFAULT 5 CHECK (late_grace_min >= 0),
  early_leave_grace_min INTEGER NOT NULL DEFAULT 5 CHECK (early_leave_grace_min >= 0),
  checkin_opens_min     INTEGER NOT NULL DEFAULT 60 CHECK (checkin_opens_min >= 0),
  overnight             INTEGER GENERATED ALWAYS AS (end_time <= start_time) VIRTUAL,
  created_at            TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at            TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE users (
  id         INTEGER PRIMARY KEY,
  code       TEXT NOT NULL UNIQUE,
  name       TEXT NOT NULL,
  role_id    INTEGER REFERENCES roles (id) ON DELETE RESTRICT,
  shift_id   INTEGER REFERENCES shifts (id) ON DELETE RESTRICT,
  active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Face descriptors: 128 float32 values (512 bytes), or their AES-256-GCM ciphertext when a
-- template key is configured (nonce and tag kept beside it). Biometric data: erased with the
-- user, never logged, never published.
CREATE TABLE face_templates (
  id         INTEGER PRIMARY KEY,
  user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  descriptor BLOB NOT NULL,
  nonce      BLOB,
  tag        BLOB,
  key_id     TEXT,
  model_id   TEXT NOT NULL,
  quality    TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX face_templates_user ON face_templates (user_id);

-- One row per punch. seq grows per terminal and never repeats, across restarts.
CREATE TABLE attendance (
  id             TEXT PRIMARY KEY,
  seq            INTEGER NOT NULL UNIQUE,
  user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  kind           TEXT NOT NULL CHECK (kind IN ('check_in', 'check_out')),
  occurred_at    TEXT NOT NULL,
  utc_offset_min INTEGER NOT NULL,
  shift_id       INTEGER REFERENCES shifts (id) ON DELETE SET NULL,
  shift_day      TEXT,
  status         TEXT NOT NULL
                 CHECK (status IN ('on_time', 'late', 'early_leave', 'overtime', 'outside_shift')),
  distance       REAL,
  camera         TEXT NOT NULL,
  created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX attendance_user_time ON attendance (user_id, occurred_at);
CREATE INDEX attendance_time ON attendance (occurred_at);

-- Events waiting for the broker (or a central consumer). Written in the same transaction as
-- the row they describe; delivered_at is set once delivery is confirmed.
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  event_id        TEXT NOT NULL UNIQUE,
  seq             INTEGER NOT NULL,
  topic           TEXT NOT NULL,
  payload         TEXT NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  published_at    TEXT,
  delivered_at    TEXT,
  created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX outbox_pending ON outbox (delivered_at, id);

-- Unknown faces, when the terminal is configured to record them: time and camera only.
CREATE TABLE sightings (
  id          INTEGER PRIMARY KEY,
  occurred_at TEXT NOT NULL,
  camera      TEXT NOT NULL,
  distance    REAL
);
CREATE INDEX sightings_time ON sightings (occurred_at);

-- Small named values that must survive restarts: the attendance sequence, job runs.
CREATE TABLE counters (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);

CREATE TABLE job_runs (
  job     TEXT NOT NULL,
  run_key TEXT NOT NULL,
  ran_at  TEXT NOT NULL,
  PRIMARY KEY (job, run_key)
);
