-- Records a terminal sent that cannot be punches (a time that is no date, a
-- PIN with control characters, bytes of no known form): kept raw for
-- inspection and shown on the terminal's page, never published. One row per
-- terminal and raw bytes; reading the same bad record again only moves
-- last_seen. raw is at most 256 bytes; the store keeps a bounded number per
-- terminal, the least recently seen dropped first, and forgets a terminal's
-- records with the terminal.
CREATE TABLE rejected (
    id          INTEGER PRIMARY KEY,
    terminal_id TEXT    NOT NULL REFERENCES terminals (id) ON DELETE CASCADE,
    serial      TEXT    NOT NULL DEFAULT '',
    source      TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    raw         BLOB    NOT NULL,
    first_seen  INTEGER NOT NULL,  -- unix milliseconds
    last_seen   INTEGER NOT NULL,
    UNIQUE (terminal_id, raw)
);
CREATE INDEX rejected_terminal_seen ON rejected (terminal_id, last_seen);
