package zksim

import (
	"sync"
	"time"
)

// FaultKind is what a Fault does.
type FaultKind int

const (
	// FaultDrop cuts a range transfer at a DATA packet: on TCP the
	// connection is closed there; on UDP the rest of the range, its ACK_OK
	// included, is not sent.
	FaultDrop FaultKind = iota + 1
	// FaultDelay sleeps Delay before every reply (Count replies).
	FaultDelay
	// FaultCorrupt flips one data byte of a DATA packet after its checksum
	// was computed, so a careful client sees a checksum mismatch.
	FaultCorrupt
)

// Fault is a failure to inject into the simulator's replies.
type Fault struct {
	Kind FaultKind
	// After: FaultDrop and FaultCorrupt act on the (After+1)-th DATA packet
	// of a range transfer sent from now on (0 = the next one), over all
	// sessions. Once fired, a fault that fires again counts After anew.
	After int
	Delay time.Duration // FaultDelay: sleep before every reply
	Count int           // how many times it fires; 0 = once; -1 = forever
}

// faultSet holds the injected faults that have not fired their count.
type faultSet struct {
	mu   sync.Mutex
	list []*armed
}

type armed struct {
	f    Fault
	wait int // DATA packets to let through before firing
	left int // firings left; -1 = forever
}

// InjectFault arms f.
func (s *Sim) InjectFault(f Fault) {
	left := f.Count
	if left == 0 {
		left = 1
	}
	if left < -1 {
		left = -1
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.list = append(s.faults.list, &armed{f: f, wait: max(f.After, 0), left: left})
}

// fire consumes one firing of a and reports whether it is used up. The
// caller holds mu.
func (a *armed) fire() (spent bool) {
	a.wait = max(a.f.After, 0)
	if a.left > 0 {
		a.left--
	}
	return a.left == 0
}

// onData is called for each DATA packet of a range transfer, before it is
// sent: it counts the packet for every armed drop or corrupt fault and
// tells whether one fires on it.
func (fs *faultSet) onData() (drop, corrupt bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	keep := fs.list[:0]
	for _, a := range fs.list {
		if a.f.Kind != FaultDrop && a.f.Kind != FaultCorrupt {
			keep = append(keep, a)
			continue
		}
		if a.wait > 0 {
			a.wait--
			keep = append(keep, a)
			continue
		}
		if a.f.Kind == FaultDrop {
			drop = true
		} else {
			corrupt = true
		}
		if !a.fire() {
			keep = append(keep, a)
		}
	}
	clear(fs.list[len(keep):])
	fs.list = keep
	return drop, corrupt
}

// delay is the pause the armed delay faults add before a reply; each of them
// counts one firing.
func (fs *faultSet) delay() time.Duration {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var d time.Duration
	keep := fs.list[:0]
	for _, a := range fs.list {
		if a.f.Kind != FaultDelay {
			keep = append(keep, a)
			continue
		}
		d += a.f.Delay
		if !a.fire() {
			keep = append(keep, a)
		}
	}
	clear(fs.list[len(keep):])
	fs.list = keep
	return d
}
