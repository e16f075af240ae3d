// Package zkpull talks to ZKTeco-family terminals over TCP or UDP port 4370,
// with the box as the client: it reads the attendance log in bulk, takes
// punches live from realtime events, keeps terminal clocks and users, and
// back-fills what it missed while disconnected.
//
// Client is one protocol session and is also what "punchbox zk" uses by
// hand; Terminal is the driver of kind "zk" that the supervisor runs.
//
// A terminal is outside input. Every size and count it announces is bounded
// (limits.go) before it is used, buffers grow as data arrives, and events
// are queued within bounds. What the box refuses to read is a refusal: the
// session goes on and the refusal is reported once. Records that cannot be
// punches are set aside (aside.go): counted, kept raw by a sink that can,
// never stored as punches. Repeated garbage is logged through
// internal/ratelog, so that no terminal can flood the log.
package zkpull
