package zkpull

import (
	"errors"
	"fmt"

	"github.com/punchbox/punchbox/protocol/zk"
)

// Bounds on what a terminal announces. Every size and count a terminal
// sends is checked against them before it is used, and buffers grow as
// data arrives, never to an announced size up front.
const (
	// MaxLogRecords is the most attendance records the box reads from one
	// terminal: the largest logs of the ZK range hold a few hundred
	// thousand. A reported count above it is no count.
	MaxLogRecords = 1_000_000
	// MaxUsers is the most users the box reads from one terminal (the
	// largest ZK user capacity is 100,000 or less).
	MaxUsers = 200_000
	// MaxDataset is the hard ceiling on any dataset, whatever the
	// terminal reports: a full log of MaxLogRecords records of the largest
	// form (40 bytes) and the u32 length prefix. A terminal that reports no
	// capacities is held to it.
	MaxDataset = 4 + MaxLogRecords*zk.AttSize40

	// maxFrame is the longest TCP packet the client accepts: twice the
	// 64 KiB terminals send at most. Longer frames end the link.
	maxFrame = 128 << 10
	// maxEventData is the longest realtime event payload the client takes:
	// the longest real form (an attendance event with its reserved bytes)
	// is 52 bytes. Longer events are dropped unread.
	maxEventData = 256
	// maxQueuedEvents and maxQueuedEventBytes bound the events kept while
	// a reply is awaited (terminals themselves keep 80 events or 1 KiB).
	// Events beyond them are dropped, unacknowledged, so the terminal sends
	// them again later.
	maxQueuedEvents     = 64
	maxQueuedEventBytes = 16 << 10
	// maxOption bounds an option value and the firmware version read from
	// a terminal; the identity kept in Info is cut further, to
	// drivers.MaxInfoText.
	maxOption = 256
)

// ErrTooLarge is returned when a terminal announces more data than it can
// hold.
var ErrTooLarge = errors.New("terminal announces more data than it can hold")

// tableBound is the most bytes a table may hold: its capacity (or its
// count, when larger) times the largest record form of the table, plus the
// length prefix, within the table's ceiling. Without capacities the ceiling
// is the bound.
func tableBound(req zk.WRRQ, sizes zk.Sizes, known bool) (bound uint32, why string) {
	ceiling, rec, capacity, count, what := MaxDataset, zk.AttSize40, 0, 0, "records"
	switch {
	case req.Command == zk.CmdAttLogRRQ:
		ceiling = 4 + MaxLogRecords*zk.AttSize40
		capacity, count = sizes.RecordCap, sizes.Records
	case req.Command == zk.CmdUserTempRRQ && req.Fct == zk.FctUser:
		ceiling, rec, what = 4+MaxUsers*zk.UserSize72, zk.UserSize72, "users"
		capacity, count = sizes.UserCap, sizes.Users
	}
	n := max(capacity, count)
	if !known || n <= 0 || int64(n)*int64(rec)+4 > int64(ceiling) {
		return uint32(ceiling), "the ceiling, for a terminal that reports no usable capacity"
	}
	return uint32(4 + n*rec), fmt.Sprintf("%d %s of up to %d bytes", n, what, rec)
}

// refusal is data the box refuses to read from a terminal, on a link
// that works: a dataset larger than the terminal can hold, a log in no
// record form its count allows. The session goes on; the refusal is
// reported, not retried as a failure.
type refusal struct{ err error }

func (r refusal) Error() string { return r.err.Error() }
func (r refusal) Unwrap() error { return r.err }

// refused marks err as a refusal.
func refused(err error) error { return refusal{err} }

// isRefused reports whether err is a refusal.
func isRefused(err error) bool {
	var r refusal
	return errors.As(err, &r)
}

// sane returns a count or capacity a terminal reported, with negative
// values (some firmware, and liars) as 0.
func sane(n int) int { return max(n, 0) }
