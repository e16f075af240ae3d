-- punchbox store, schema version 1.

-- Every punch, once (id is the stable punch id). seq is the per-box outbox
-- sequence: the writer assigns it from outbox.last_seq, so it is monotonic,
-- has no gaps and is never reused, even after old rows are pruned.
CREATE TABLE punches (
    seq             INTEGER PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    terminal_id     TEXT    NOT NULL,
    terminal_serial TEXT    NOT NULL,
    pin             TEXT    NOT NULL,
    local_time      TEXT    NOT NULL,  -- device wall clock, 2006-01-02T15:04:05
    zone            TEXT    NOT NULL,  -- IANA zone of local_time
    utc_time        INTEGER NOT NULL,  -- the instant, unix seconds
    received        INTEGER NOT NULL,  -- box clock on arrival, unix milliseconds
    state           INTEGER NOT NULL,
    verify          INTEGER NOT NULL,
    work_code       TEXT    NOT NULL DEFAULT '',
    source          TEXT    NOT NULL
);
-- One index per panel query (store/queries.go); a test checks each is used.
CREATE INDEX punches_pin_time      ON punches (pin, local_time);
CREATE INDEX punches_terminal_time ON punches (terminal_id, local_time);
CREATE INDEX punches_time          ON punches (local_time, terminal_id, pin);

-- Punches per terminal per hour of local time, kept up to date by every
-- write, so that the dashboard's counts cost the same at any store size.
-- Counts stay when old punches are pruned.
CREATE TABLE punch_counts (
    hour        TEXT    NOT NULL,  -- the hour of local_time: 2006-01-02T15
    terminal_id TEXT    NOT NULL,
    punches     INTEGER NOT NULL,
    PRIMARY KEY (hour, terminal_id)
) WITHOUT ROWID;

-- Outbox position: every punch with seq <= delivered_seq was acknowledged
-- upstream, and so was every one in delivered_ranges (JSON [[from, to], …],
-- disjoint, above delivered_seq: live punches sent ahead of a back-fill);
-- pending counts the others; last_seq is the newest seq given. The uplink
-- keeps its batch sequence (the last batch acknowledged) and its connection
-- session counter here too.
CREATE TABLE outbox (
    one              INTEGER PRIMARY KEY CHECK (one = 1),
    last_seq         INTEGER NOT NULL DEFAULT 0,
    delivered_seq    INTEGER NOT NULL DEFAULT 0,
    delivered_ranges TEXT    NOT NULL DEFAULT '[]',
    pending          INTEGER NOT NULL DEFAULT 0,
    delivered_at     INTEGER NOT NULL DEFAULT 0,  -- unix milliseconds of the last delivery
    batch_seq        INTEGER NOT NULL DEFAULT 0,
    session          INTEGER NOT NULL DEFAULT 0
);
INSERT INTO outbox (one) VALUES (1);

CREATE TABLE terminals (
    id      TEXT    PRIMARY KEY,
    name    TEXT    NOT NULL DEFAULT '',
    kind    TEXT    NOT NULL,
    address TEXT    NOT NULL DEFAULT '',
    zone    TEXT    NOT NULL DEFAULT '',
    options TEXT    NOT NULL DEFAULT '{}',  -- JSON, decoded by the kind's driver
    enabled INTEGER NOT NULL DEFAULT 1,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);

-- What drivers and the supervisor remember per terminal.
CREATE TABLE terminal_state (
    terminal_id  TEXT    PRIMARY KEY REFERENCES terminals (id) ON DELETE CASCADE,
    cursor       TEXT    NOT NULL DEFAULT '{}',  -- JSON drivers.Cursor
    health       TEXT    NOT NULL DEFAULT '{}',  -- JSON drivers.Health, identity included
    last_contact INTEGER NOT NULL DEFAULT 0,     -- unix milliseconds
    updated      INTEGER NOT NULL
);

CREATE TABLE employees (
    pin       TEXT    PRIMARY KEY,
    name      TEXT    NOT NULL DEFAULT '',
    card      TEXT    NOT NULL DEFAULT '',
    privilege INTEGER NOT NULL DEFAULT 0,
    disabled  INTEGER NOT NULL DEFAULT 0,
    created   INTEGER NOT NULL,
    updated   INTEGER NOT NULL
);

CREATE TABLE settings (
    key     TEXT    PRIMARY KEY,
    value   TEXT    NOT NULL,  -- JSON
    updated INTEGER NOT NULL
);

-- Panel users. password is a PHC string (argon2id).
CREATE TABLE users (
    id       INTEGER PRIMARY KEY,
    name     TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    role     TEXT    NOT NULL CHECK (role IN ('admin', 'viewer')),
    password TEXT    NOT NULL,
    created  INTEGER NOT NULL,
    updated  INTEGER NOT NULL
);

-- Panel sessions, so that logout ends one on the server. id is the SHA-256
-- of the session token; the token itself is never stored.
CREATE TABLE sessions (
    id        TEXT    PRIMARY KEY,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created   INTEGER NOT NULL,
    expires   INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    remote    TEXT    NOT NULL DEFAULT '',
    agent     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

-- API tokens for scripts. hash is the SHA-256 of the token, shown once.
CREATE TABLE api_tokens (
    id        INTEGER PRIMARY KEY,
    name      TEXT    NOT NULL UNIQUE,
    hash      TEXT    NOT NULL UNIQUE,
    role      TEXT    NOT NULL CHECK (role IN ('admin', 'viewer')),
    created   INTEGER NOT NULL,
    created_by TEXT   NOT NULL DEFAULT '',
    last_used INTEGER NOT NULL DEFAULT 0,
    revoked   INTEGER NOT NULL DEFAULT 0  -- unix milliseconds; 0 while valid
);

-- Who changed what, when and from where. Append-only: the triggers refuse
-- any update or delete.
CREATE TABLE audit (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,  -- unix milliseconds
    actor  TEXT    NOT NULL,
    action TEXT    NOT NULL,
    target TEXT    NOT NULL DEFAULT '',
    detail TEXT    NOT NULL DEFAULT '',
    remote TEXT    NOT NULL DEFAULT ''
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
-- REPLACE would delete the old row without firing the delete trigger.
CREATE TRIGGER audit_no_replace BEFORE INSERT ON audit
WHEN NEW.seq IS NOT NULL AND EXISTS (SELECT 1 FROM audit WHERE seq = NEW.seq)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
