-- Heartbeat monitors and the Watchdog (issue 14): one row per monitor name
-- (the Watchdog is ':watchdog'). Times are Unix nanoseconds, 0 for none;
-- durations are nanoseconds, durations_json a JSON array of them.
CREATE TABLE heartbeats (
    name          TEXT    PRIMARY KEY,
    status        TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_ping     INTEGER NOT NULL DEFAULT 0,
    running_since INTEGER NOT NULL DEFAULT 0,
    last_fail     INTEGER NOT NULL DEFAULT 0,
    exit_code     INTEGER NOT NULL DEFAULT 0,
    fail_log      TEXT    NOT NULL DEFAULT '',
    last_duration INTEGER NOT NULL DEFAULT 0,
    durations     TEXT    NOT NULL DEFAULT '[]',
    problem_since INTEGER NOT NULL DEFAULT 0,
    long_since    INTEGER NOT NULL DEFAULT 0,
    paused        INTEGER NOT NULL DEFAULT 0,
    paused_by     TEXT    NOT NULL DEFAULT '',
    resumed_at    INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL
) WITHOUT ROWID;
