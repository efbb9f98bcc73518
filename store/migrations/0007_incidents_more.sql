-- Incident working state (threads, summaries, reminders), messages waiting
-- for an incident's thread, thread members, user reports and measures.
CREATE TABLE incident_state (
    incident_id           INTEGER PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
    source                TEXT    NOT NULL DEFAULT '',
    post_id               INTEGER NOT NULL DEFAULT 0,
    announce_id           TEXT    NOT NULL DEFAULT '',
    summary_version       INTEGER NOT NULL DEFAULT 0,
    archived              INTEGER NOT NULL DEFAULT 0,
    snoozed_until         INTEGER NOT NULL DEFAULT 0,
    update_reminded_at    INTEGER NOT NULL DEFAULT 0,
    commander_reminded_at INTEGER NOT NULL DEFAULT 0,
    nudged_at             INTEGER NOT NULL DEFAULT 0,
    thread_error          TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE incident_posts (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL DEFAULT 0,
    channel_id  TEXT    NOT NULL DEFAULT '',
    kind        TEXT    NOT NULL,
    ref         TEXT    NOT NULL DEFAULT '',
    message     TEXT    NOT NULL,
    buttons     TEXT    NOT NULL DEFAULT '[]',
    due_at      INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX incident_posts_due ON incident_posts (due_at, id);

CREATE TABLE incident_members (
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    user_id     TEXT    NOT NULL,
    result      TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (incident_id, user_id)
);

CREATE TABLE incident_group_actions (
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    group_id    INTEGER NOT NULL,
    seen        INTEGER NOT NULL,
    PRIMARY KEY (incident_id, group_id)
);

CREATE INDEX timeline_ref ON timeline (incident_id, ref) WHERE ref != '';

CREATE TABLE user_reports (
    id          INTEGER PRIMARY KEY,
    text        TEXT    NOT NULL,
    reporter    TEXT    NOT NULL,
    channel_id  TEXT    NOT NULL DEFAULT '',
    status      TEXT    NOT NULL,
    incident_id INTEGER NOT NULL DEFAULT 0,
    handled_by  TEXT    NOT NULL DEFAULT '{}',
    triage_channel_id TEXT NOT NULL DEFAULT '',
    message_id  TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    handled_at  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE incident_measures (
    incident_id      INTEGER PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
    priority         INTEGER NOT NULL,
    detected_at      INTEGER NOT NULL,
    time_to_ack      INTEGER NOT NULL DEFAULT 0,
    time_to_mitigate INTEGER NOT NULL DEFAULT 0,
    time_to_resolve  INTEGER NOT NULL DEFAULT 0,
    impact_duration  INTEGER NOT NULL DEFAULT 0,
    acked            INTEGER NOT NULL DEFAULT 0,
    mitigated        INTEGER NOT NULL DEFAULT 0,
    resolved         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX incident_measures_detected ON incident_measures (detected_at);
