-- Alert groups (one row per episode of an Alertmanager group), their alerts,
-- the Discord posts that show them, and the outbox that delivers the posts.
CREATE TABLE alert_groups (
    id                 INTEGER PRIMARY KEY,
    group_key          TEXT    NOT NULL,
    receiver           TEXT    NOT NULL,
    status             TEXT    NOT NULL CHECK (status IN ('firing', 'resolved')),
    priority           INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 3),
    priority_source    TEXT    NOT NULL,
    group_labels       TEXT    NOT NULL,
    common_labels      TEXT    NOT NULL,
    common_annotations TEXT    NOT NULL,
    external_url       TEXT    NOT NULL,
    truncated_alerts   INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    resolved_at        INTEGER NOT NULL,
    version            INTEGER NOT NULL
);
CREATE INDEX alert_groups_key ON alert_groups (group_key, id);
CREATE INDEX alert_groups_status ON alert_groups (status, priority);

CREATE TABLE alerts (
    group_id      INTEGER NOT NULL REFERENCES alert_groups (id) ON DELETE CASCADE,
    fingerprint   TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    labels        TEXT    NOT NULL,
    annotations   TEXT    NOT NULL,
    starts_at     INTEGER NOT NULL,
    ends_at       INTEGER NOT NULL,
    generator_url TEXT    NOT NULL,
    PRIMARY KEY (group_id, fingerprint)
);

CREATE TABLE posts (
    id            INTEGER PRIMARY KEY,
    kind          TEXT    NOT NULL CHECK (kind IN ('card', 'digest', 'page')),
    channel_id    TEXT    NOT NULL,
    digest_id     INTEGER REFERENCES posts (id),
    seq           INTEGER NOT NULL DEFAULT 0,
    priority      INTEGER NOT NULL,
    mention_roles TEXT    NOT NULL DEFAULT '[]',
    mention_users TEXT    NOT NULL DEFAULT '[]',
    message_id    TEXT    NOT NULL DEFAULT '',
    thread_id     TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    last_error    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX posts_pending ON posts (channel_id, priority) WHERE message_id = '' AND kind = 'card';
CREATE INDEX posts_digest ON posts (digest_id, seq);
CREATE INDEX posts_channel_kind ON posts (channel_id, kind, id);

CREATE TABLE post_groups (
    post_id  INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES alert_groups (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (post_id, group_id)
);
CREATE INDEX post_groups_group ON post_groups (group_id);

CREATE TABLE outbox (
    post_id    INTEGER PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    priority   INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    due_at     INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (due_at, priority, created_at);
