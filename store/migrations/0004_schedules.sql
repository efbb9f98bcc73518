-- On-call schedules: overrides (someone takes the pager for a period) and
-- the last handoff announced per schedule. The rotations themselves live in
-- the configuration file.
CREATE TABLE schedule_overrides (
    id         INTEGER PRIMARY KEY,
    schedule   TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL CHECK (ends_at > starts_at),
    created_by TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX schedule_overrides_range ON schedule_overrides (schedule, ends_at, starts_at);

CREATE TABLE schedule_handoffs (
    schedule     TEXT    PRIMARY KEY,
    user_id      TEXT    NOT NULL,
    starts_at    INTEGER NOT NULL,
    ends_at      INTEGER NOT NULL,
    announced_at INTEGER NOT NULL
);
