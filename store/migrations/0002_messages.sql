-- Plain messages queued for Discord (pages, reminders, announcements), and a
-- record of the ones that could not be delivered.
CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    channel_id TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    priority   INTEGER NOT NULL,
    body       TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    ref        TEXT    NOT NULL,
    due_at     INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX messages_due ON messages (due_at, priority, id);

CREATE TABLE dropped_messages (
    id         INTEGER PRIMARY KEY,
    channel_id TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    ref        TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    dropped_at INTEGER NOT NULL
);
