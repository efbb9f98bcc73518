-- One outbound queue for everything Klaxon sends to Discord: card, digest and
-- page posts (kind 'post', coalesced per post), plain messages, DMs and
-- incident-thread messages (kind 'message'), incident threads and summaries
-- (kind 'incident', coalesced per incident) and post-mortem forum posts (kind
-- 'forum', coalesced per post-mortem). It replaces outbox, messages,
-- incident_posts and dropped_messages. AUTOINCREMENT: an item's id is its
-- Discord nonce, so ids are never reused.
CREATE TABLE queue (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL CHECK (kind IN ('post', 'message', 'incident', 'forum')),
    target      INTEGER,                      -- post / incident / post-mortem id; NULL for messages
    priority    INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,  -- bumped when the target changes again before delivery
    channel_id  TEXT    NOT NULL DEFAULT '', -- messages: where ('' with user_id: a DM; '' with incident_id: its thread)
    user_id     TEXT    NOT NULL DEFAULT '',
    incident_id INTEGER NOT NULL DEFAULT 0,
    body        TEXT    NOT NULL DEFAULT '', -- messages: the message as JSON
    buttons     TEXT    NOT NULL DEFAULT '[]',
    tag         TEXT    NOT NULL DEFAULT '', -- messages: the feature ("page", "reminder", "update", ...)
    ref         TEXT    NOT NULL DEFAULT '', -- messages: the feature's reference ("group:1:page:2")
    due_at      INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,  -- failed attempts
    sends       INTEGER NOT NULL DEFAULT 0,  -- creates started (a lost answer may have created it)
    last_error  TEXT    NOT NULL DEFAULT '',
    dead_at     INTEGER NOT NULL DEFAULT 0,  -- refused for good: kept as a dead letter until requeued
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX queue_target ON queue (kind, target) WHERE target IS NOT NULL;
CREATE INDEX queue_due ON queue (dead_at, due_at, priority, created_at);
CREATE INDEX queue_ref ON queue (tag, ref) WHERE kind = 'message';
CREATE INDEX queue_incident ON queue (incident_id) WHERE incident_id != 0;

INSERT INTO queue (kind, target, priority, version, due_at, attempts, last_error, created_at)
    SELECT 'post', post_id, priority, version, due_at, attempts, last_error, created_at FROM outbox;
INSERT INTO queue (kind, priority, channel_id, user_id, body, tag, ref, due_at, attempts, last_error, created_at)
    SELECT 'message', priority, channel_id, user_id, body, kind, ref, due_at, attempts, last_error, created_at FROM messages;
INSERT INTO queue (kind, priority, channel_id, incident_id, body, buttons, tag, ref, due_at, attempts, last_error, created_at)
    SELECT 'message', 1, channel_id, incident_id, message, buttons, kind, ref, due_at, attempts, last_error, created_at FROM incident_posts;
INSERT INTO queue (kind, priority, channel_id, user_id, body, tag, ref, due_at, last_error, dead_at, created_at)
    SELECT 'message', 3, channel_id, user_id, body, kind, ref, dropped_at, reason, dropped_at, dropped_at FROM dropped_messages;
INSERT INTO queue (kind, target, priority, due_at, attempts, last_error, created_at)
    SELECT 'forum', id, 2, publish_next_at, publish_attempts, publish_error, updated_at FROM postmortems
    WHERE publish_dirty = 1 AND forum_channel_id != '';

DROP TABLE outbox;
DROP TABLE messages;
DROP TABLE incident_posts;
DROP TABLE dropped_messages;
