-- Numbers central sees are never reused (store/numbering.go).
--
-- epoch names the box's numbering of batches and punches: it changes when
-- a restore (or a store copied in by hand) may have taken the numbers
-- back, so central can tell a new numbering apart even where the numbers
-- themselves repeat. last_batch is the last batch number given out (the
-- uplink resumes after it, whether or not it was acknowledged). mark_* are
-- the high-water marks this database last wrote to the numbers file beside
-- it: a file that is ahead of them means this database is older than the
-- numbers already published.
ALTER TABLE outbox ADD COLUMN epoch        TEXT    NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN last_batch   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN mark_seq     INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN mark_batch   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN mark_session INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET epoch = lower(hex(randomblob(8))), last_batch = batch_seq;

-- Batches published and not yet acknowledged, as they were published: a
-- batch is recorded before it goes out, and after a reconnect or a restart
-- it goes out again under its number with the same punches. ranges is
-- JSON [[from, to], …] of outbox seqs; resend is the request id of the
-- resend command it belongs to ('' for the outbox's own batches).
CREATE TABLE batches (
    batch      INTEGER PRIMARY KEY,
    historical INTEGER NOT NULL,
    resend     TEXT    NOT NULL DEFAULT '',
    ranges     TEXT    NOT NULL
);
