-- Replay protection (issue 12). interactions_seen holds the ids of HTTP
-- interactions already handled, kept longer than Discord's timestamp window
-- so that a captured request sent again (also after a restart) is refused;
-- rows older than the retention are pruned as new ones arrive.
-- pages.keypress / answered_at record the key that acted on a page's call:
-- a call acts once, however often its callback is delivered.
CREATE TABLE interactions_seen (
    id      TEXT    PRIMARY KEY,
    seen_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX interactions_seen_at ON interactions_seen (seen_at);

ALTER TABLE pages ADD COLUMN keypress TEXT NOT NULL DEFAULT '';
ALTER TABLE pages ADD COLUMN answered_at INTEGER NOT NULL DEFAULT 0;
