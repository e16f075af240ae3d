package zksim

import (
	"maps"
	"sync"

	"github.com/punchbox/punchbox/protocol/zk"
)

// Stats counts what the simulator has seen and done since New.
type Stats struct {
	Connections int // TCP connections accepted so far
	Sessions    int // sessions open now

	Disables           int // DISABLEDEVICE commands received
	Enables            int // ENABLEDEVICE commands received
	LastDisableTimeout int // the u32 seconds of the last DISABLEDEVICE (0 if it had none)
	AutoEnables        int // times a disable time-out re-enabled the device

	EventsSent    int // realtime events sent for the first time
	EventsResent  int // realtime events sent again for want of an acknowledgement
	EventsAcked   int // realtime events acknowledged
	PendingEvents int // unacknowledged events over the open sessions

	DataPackets int                // DATA packets sent in range transfers
	Commands    map[zk.Command]int // packets received per command (valid checksums only)
}

// counters is the simulator's copy of Stats, under its own lock (a leaf).
type counters struct {
	mu sync.Mutex
	Stats
	commands map[zk.Command]int
	changed  chan struct{} // signalled, coalesced, after every change
}

// Changed returns a channel that receives a signal (coalesced) after any
// counter of Stats changes, for tests to wait on what the simulator saw.
func (s *Sim) Changed() <-chan struct{} { return s.stats.changed }

// signal wakes a waiter of Changed; the caller holds mu.
func (c *counters) signal() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// Stats returns a snapshot of the counters.
func (s *Sim) Stats() Stats {
	pending := s.pendingEvents()
	c := &s.stats
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.Stats
	st.PendingEvents = pending
	st.Commands = maps.Clone(c.commands)
	return st
}

func (c *counters) add(f func(st *Stats)) {
	c.mu.Lock()
	f(&c.Stats)
	c.signal()
	c.mu.Unlock()
}

func (c *counters) command(cmd zk.Command) {
	c.mu.Lock()
	c.commands[cmd]++
	c.signal()
	c.mu.Unlock()
}

func (c *counters) connection()    { c.add(func(st *Stats) { st.Connections++ }) }
func (c *counters) sessionOpened() { c.add(func(st *Stats) { st.Sessions++ }) }
func (c *counters) sessionClosed() { c.add(func(st *Stats) { st.Sessions-- }) }
func (c *counters) enabled()       { c.add(func(st *Stats) { st.Enables++ }) }
func (c *counters) autoEnabled()   { c.add(func(st *Stats) { st.AutoEnables++ }) }
func (c *counters) eventSent()     { c.add(func(st *Stats) { st.EventsSent++ }) }
func (c *counters) eventResent()   { c.add(func(st *Stats) { st.EventsResent++ }) }
func (c *counters) eventAcked()    { c.add(func(st *Stats) { st.EventsAcked++ }) }
func (c *counters) dataPacket()    { c.add(func(st *Stats) { st.DataPackets++ }) }

func (c *counters) disabled(timeout int) {
	c.add(func(st *Stats) {
		st.Disables++
		st.LastDisableTimeout = timeout
	})
}
