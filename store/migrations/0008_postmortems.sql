-- Runbook checklists run in incidents, post-mortems with their revisions and
-- their forum publication, action items with reminder state, and the due
-- policy's reminder state. Times are Unix nanoseconds, 0 for none.

CREATE TABLE runbook_checklists (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    runbook_id  TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    steps       TEXT    NOT NULL,               -- JSON array of step texts, as when started
    done        TEXT    NOT NULL DEFAULT '[]',  -- JSON array, one entry per step: {user_id, name, via, at} or null
    channel_id  TEXT    NOT NULL DEFAULT '',
    started_by  TEXT    NOT NULL DEFAULT '{}',
    started_at  INTEGER NOT NULL
);
CREATE INDEX runbook_checklists_incident ON runbook_checklists (incident_id, id);

CREATE TABLE postmortems (
    id               INTEGER PRIMARY KEY,
    incident_id      INTEGER NOT NULL UNIQUE REFERENCES incidents (id) ON DELETE CASCADE,
    revision         INTEGER NOT NULL,
    sections         TEXT    NOT NULL,              -- JSON object: section key -> Markdown
    llm_model        TEXT    NOT NULL DEFAULT '',
    llm_sections     TEXT    NOT NULL DEFAULT '[]', -- sections still as the LLM drafted them
    draft_note       TEXT    NOT NULL DEFAULT '',
    created_by       TEXT    NOT NULL DEFAULT '{}',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    published_at     INTEGER NOT NULL DEFAULT 0,
    published_by     TEXT    NOT NULL DEFAULT '{}',
    -- Forum publication, driven by the publish job until Discord confirms.
    forum_channel_id TEXT    NOT NULL DEFAULT '',
    forum_thread_id  TEXT    NOT NULL DEFAULT '',
    published_hash   TEXT    NOT NULL DEFAULT '',
    publish_dirty    INTEGER NOT NULL DEFAULT 0,
    publish_next_at  INTEGER NOT NULL DEFAULT 0,
    publish_attempts INTEGER NOT NULL DEFAULT 0,
    publish_error    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX postmortems_publish ON postmortems (publish_next_at) WHERE publish_dirty = 1;

CREATE TABLE postmortem_revisions (
    postmortem_id INTEGER NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    revision      INTEGER NOT NULL,
    sections      TEXT    NOT NULL,
    markdown      TEXT    NOT NULL,
    changed       TEXT    NOT NULL DEFAULT '', -- section key edited, "" for the draft
    note          TEXT    NOT NULL DEFAULT '',
    user_id       TEXT    NOT NULL DEFAULT '',
    user_name     TEXT    NOT NULL DEFAULT '',
    via           TEXT    NOT NULL DEFAULT '',
    at            INTEGER NOT NULL,
    PRIMARY KEY (postmortem_id, revision)
);

CREATE TABLE action_items (
    id                INTEGER PRIMARY KEY,
    incident_id       INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    text              TEXT    NOT NULL,
    owner_id          TEXT    NOT NULL,
    due_at            INTEGER NOT NULL,
    status            TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    created_by        TEXT    NOT NULL DEFAULT '{}',
    created_at        INTEGER NOT NULL,
    done_at           INTEGER NOT NULL DEFAULT 0,
    done_by           TEXT    NOT NULL DEFAULT '{}',
    reminders         INTEGER NOT NULL DEFAULT 0, -- reminders sent so far
    next_reminder_at  INTEGER NOT NULL DEFAULT 0  -- 0: none planned
);
CREATE INDEX action_items_incident ON action_items (incident_id, id);
CREATE INDEX action_items_due ON action_items (next_reminder_at) WHERE status = 'open' AND next_reminder_at > 0;

CREATE TABLE postmortem_due (
    incident_id INTEGER PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
    due_at      INTEGER NOT NULL,
    reminders   INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL DEFAULT 0,
    state       TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'skipped'))
);
CREATE INDEX postmortem_due_next ON postmortem_due (next_at) WHERE state = 'pending';
