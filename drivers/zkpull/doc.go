// Package zkpull talks to ZKTeco-family terminals over TCP or UDP port 4370,
// with the box as the client: it reads the attendance log in bulk, takes
// punches live from realtime events, keeps terminal clocks and users, and
// back-fills what it missed while disconnected.
//
// Client is one protocol session and is also what "punchbox zk" uses by
// hand; Terminal is the driver of kind "zk" that the supervisor runs.
package zkpull
