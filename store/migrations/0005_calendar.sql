-- The SRE calendar: reminders with cron schedules, the next run of the
-- built-in schedules (reports, backups), a record of every scheduled run
-- (fired or skipped: unique per schedule and time, so nothing fires twice),
-- and the SLO budget warnings already posted this month.
CREATE TABLE reminders (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    cron        TEXT    NOT NULL,
    time_zone   TEXT    NOT NULL,
    channel_id  TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    roles       TEXT    NOT NULL DEFAULT '[]',
    paused      INTEGER NOT NULL DEFAULT 0,
    source      TEXT    NOT NULL CHECK (source IN ('config', 'command')),
    next_at     INTEGER NOT NULL,
    last_run_at INTEGER NOT NULL DEFAULT 0,
    created_by  TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX reminders_due ON reminders (paused, next_at);

CREATE TABLE calendar_state (
    job         TEXT    PRIMARY KEY,
    spec        TEXT    NOT NULL,
    next_at     INTEGER NOT NULL,
    last_run_at INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE calendar_runs (
    id           INTEGER PRIMARY KEY,
    job          TEXT    NOT NULL,
    scheduled_at INTEGER NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('fired', 'skipped')),
    skipped      INTEGER NOT NULL DEFAULT 0,
    detail       TEXT    NOT NULL DEFAULT '',
    at           INTEGER NOT NULL,
    UNIQUE (job, scheduled_at)
);
CREATE INDEX calendar_runs_job ON calendar_runs (job, id);

CREATE TABLE slo_warnings (
    service   TEXT    NOT NULL,
    month     TEXT    NOT NULL,
    threshold INTEGER NOT NULL,
    remaining REAL    NOT NULL,
    sent_at   INTEGER NOT NULL,
    PRIMARY KEY (service, month, threshold)
);
