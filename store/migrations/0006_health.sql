-- The store's own health, one row. probed is when the health check last
-- wrote to learn whether the store can write (it does so only after a
-- failed write or on a nearly full disk); integrity_ok is when the full
-- integrity check last passed and integrity_ms how long it took.
CREATE TABLE health (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    probed       INTEGER NOT NULL DEFAULT 0,  -- unix milliseconds
    integrity_ok INTEGER NOT NULL DEFAULT 0,  -- unix milliseconds; 0: never
    integrity_ms INTEGER NOT NULL DEFAULT 0
);
