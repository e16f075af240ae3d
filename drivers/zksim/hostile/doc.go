// Package hostile is a ZK terminal that lies, for tests: over real TCP and
// UDP sockets on one port it answers the binary protocol as a terminal
// does, but sends what its Config says, however wrong: a dataset size of
// 0xFFFFFFF0 bytes, negative or huge counts and capacities, megabyte event
// frames before it answers CONNECT, floods of malformed live punches and
// alarms, logs with a partial trailing record, PINs with control
// characters and times of 0 or erased flash, an 18 KB platform string full
// of ESC and BEL.
//
// Where zksim is faithful to the firmware, hostile is faithful to nothing:
// it keeps no users or log of its own, only the raw bytes it is given, and
// it checks nothing the client sends beyond what it needs to answer. Every
// byte on the wire still goes through protocol/zk, so a frame it sends is
// well formed unless its Config asks otherwise.
//
// A Server is built with New (no I/O) from one or more Configs (the n-th
// connection gets Config n modulo their number), bound with Listen and
// served with Run. Stats says what it saw and did, for tests to wait on.
// Worst is the rotation cmd/zksim -hostile serves.
package hostile
