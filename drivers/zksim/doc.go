// Package zksim is a simulated ZKTeco-family terminal: the device side of
// the binary protocol on port 4370, over TCP and UDP on the same port.
//
// It is modelled on how the terminal firmware answers (sessions and comm-key
// authentication, options, free sizes, the packed clock, disable with an
// auto-enable timeout, bulk reads through DATA_WRRQ / DATA_RDY / FREE_DATA
// with PREPARE_DATA and numbered DATA packets, the legacy direct reads, user
// writes, clearing, and realtime attendance events that are resent until
// acknowledged), so that clients can be tested against real sockets without
// hardware. Every byte on the wire goes through protocol/zk.
//
// A Sim is built with New (no I/O), bound with Listen and served with Run.
// Its data (users, the attendance log, the clock) can be read and changed
// while it runs; Punch and RunPunches make users punch, and InjectFault makes
// transfers fail in chosen ways.
//
// Where the simulator departs from the firmware on purpose:
//
//   - Realtime events are always queued and resent every ResendEvery until the
//     client acknowledges them, each with its own reply id: a per-session
//     counter that starts at 1, increases by one per event and wraps from
//     65535 to 1, never 0 (0 is what pyzk puts in every acknowledgement). The
//     firmware only caches events after a first acknowledgement got through
//     and only ever sends the head of its queue; the simulator sends every
//     event at once and resends every pending one. Like the firmware it keeps
//     at most 80 events or 1024 bytes of them per session, dropping the oldest.
//   - STATE_RRQ answers ACK_OK with the session id in the session slot; the
//     firmware puts the machine state (0, idle) there.
//   - A session that ends (EXIT, TCP close, idle UDP) leaves the device
//     disabled; the firmware re-enables it when its last session goes.
//   - A packet whose session id is unknown gets ACK_UNAUTH, on TCP too; the
//     firmware drops it silently.
//   - The firmware drops a command whose reply id is lower than the last one
//     and replays its last reply for a repeated one; the simulator answers
//     every command.
//   - Time-outs (auto-enable, resend, idle sessions) run on the real
//     monotonic clock; Config.Now drives only the device clock.
package zksim
