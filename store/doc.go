// Package store keeps everything the box must not lose in one SQLite
// database (modernc.org/sqlite, no cgo): punches and their outbox, terminal
// configuration and state, employees, settings, panel users, sessions, API
// tokens and the audit log.
//
// The database runs in WAL mode with synchronous=FULL: Put returns only once
// its transaction is on disk, and concurrent Puts share one transaction and
// one fsync (group commit). Schema migrations are embedded and applied in
// one transaction at Open; a database from a newer punchbox is refused.
//
// SQLite is the only hand-off between the box's parts: drivers Put punches,
// the uplink reads the outbox in order and marks what central acknowledged,
// and the panel queries. Changed wakes readers when punches commit.
//
// A damaged database is noticed and never written: Open checks the header
// and runs a bounded quick check before anything is written, Checker runs
// the full integrity check in the background, and damage found either way
// makes every write fail with ErrDamaged (see Damage), Healthy say so, and
// is recorded beside the database until a backup is restored. Healthy also
// says when the store cannot write (a full disk). The write-ahead log is
// brought back to size after long reads (wal.go).
//
// The numbers central sees (outbox seqs, batch numbers, sessions) are
// kept above everything published, across restores, by a high-water file
// beside the database (NumbersFile) and a numbering epoch.
//
// Backups are consistent snapshots taken while writes go on, with a
// manifest; Restore verifies a backup completely before it swaps it in
// atomically; Scheduler takes them daily and keeps the newest.
package store
