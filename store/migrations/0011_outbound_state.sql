-- When Klaxon last delivered something to Discord. After a restart the
-- pacer starts from it: Discord's per-channel windows (5 messages / 5 s)
-- outlive a crash, so a fresh pacer must not assume full buckets.
CREATE TABLE outbound_state (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    last_sent INTEGER NOT NULL DEFAULT 0
);
INSERT INTO outbound_state (id, last_sent) VALUES (1, 0);
