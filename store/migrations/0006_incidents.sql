-- Incidents, the alert groups linked to them, and their timelines.
CREATE TABLE incidents (
    id             INTEGER PRIMARY KEY,
    title          TEXT    NOT NULL,
    priority       INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 3),
    impact         TEXT    NOT NULL DEFAULT '',
    services       TEXT    NOT NULL DEFAULT '[]',
    status         TEXT    NOT NULL,
    roles          TEXT    NOT NULL DEFAULT '{}',
    channel_id     TEXT    NOT NULL DEFAULT '',
    thread_id      TEXT    NOT NULL DEFAULT '',
    summary_id     TEXT    NOT NULL DEFAULT '',
    created_by     TEXT    NOT NULL DEFAULT '{}',
    started_at     INTEGER NOT NULL,
    detected_at    INTEGER NOT NULL,
    acked_at       INTEGER NOT NULL DEFAULT 0,
    mitigated_at   INTEGER NOT NULL DEFAULT 0,
    resolved_at    INTEGER NOT NULL DEFAULT 0,
    closed_at      INTEGER NOT NULL DEFAULT 0,
    last_update_at INTEGER NOT NULL DEFAULT 0,
    version        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX incidents_status ON incidents (status, id);
CREATE INDEX incidents_thread ON incidents (thread_id) WHERE thread_id != '';

CREATE TABLE incident_groups (
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    group_id    INTEGER NOT NULL REFERENCES alert_groups (id) ON DELETE CASCADE,
    PRIMARY KEY (incident_id, group_id)
);
CREATE UNIQUE INDEX incident_groups_group ON incident_groups (group_id);

CREATE TABLE timeline (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    user_name   TEXT    NOT NULL,
    via         TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    ref         TEXT    NOT NULL
);
CREATE INDEX timeline_incident ON timeline (incident_id, at, id);
