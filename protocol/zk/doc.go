// Package zk is a pure codec for the binary protocol of ZKTeco-family
// terminals (and rebrands such as eSSL, TimeMoto and Ronald Jack), in both
// directions: what a client sends and what a terminal answers.
//
// It covers the inner 8-byte packet and its three framings (a UDP datagram,
// the TCP stream with its 0x5050827d header, and the serial line with its RS
// header and checksum), the RFC 1071 checksum, the comm-key scrambler, the
// packed time format, free sizes, attendance records in their 8-, 16- and
// 40-byte forms, users in their 28- and 72-byte forms, realtime events, and
// the requests and replies of bulk transfers.
//
// The package does no I/O and no logging and imports only the standard
// library. Every decoder checks lengths before it reads and returns an error
// for malformed input; none panics.
package zk
