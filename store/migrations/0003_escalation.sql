-- Acknowledgement, silences and escalation: state on the group, the
-- escalation cursor per group, every page sent, and the action log.
ALTER TABLE alert_groups ADD COLUMN ack TEXT NOT NULL DEFAULT '';
ALTER TABLE alert_groups ADD COLUMN resolved_by TEXT NOT NULL DEFAULT '';
ALTER TABLE alert_groups ADD COLUMN silence TEXT NOT NULL DEFAULT '';
ALTER TABLE alert_groups ADD COLUMN overdue INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alert_groups ADD COLUMN escalated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alert_groups ADD COLUMN notes TEXT NOT NULL DEFAULT '[]';

CREATE TABLE escalations (
    group_id INTEGER PRIMARY KEY REFERENCES alert_groups (id) ON DELETE CASCADE,
    priority INTEGER NOT NULL,
    step     INTEGER NOT NULL,
    loop     INTEGER NOT NULL,
    next_at  INTEGER NOT NULL,
    deadline INTEGER NOT NULL,
    overdue  INTEGER NOT NULL DEFAULT 0,
    done     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX escalations_due ON escalations (done, next_at);

CREATE TABLE pages (
    id         INTEGER PRIMARY KEY,
    group_id   INTEGER NOT NULL REFERENCES alert_groups (id) ON DELETE CASCADE,
    step       INTEGER NOT NULL,
    via        TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    role_id    TEXT    NOT NULL,
    schedule   TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    detail     TEXT    NOT NULL DEFAULT '',
    call_sid   TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    sent_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX pages_queue ON pages (via, status, id);
CREATE INDEX pages_group ON pages (group_id);
CREATE INDEX pages_user ON pages (user_id, via, sent_at);

CREATE TABLE actions (
    id         INTEGER PRIMARY KEY,
    group_id   INTEGER NOT NULL REFERENCES alert_groups (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    user_name  TEXT    NOT NULL,
    via        TEXT    NOT NULL,
    detail     TEXT    NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX actions_group ON actions (group_id, id);
