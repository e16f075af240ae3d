package zkpull

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/punchbox/punchbox/protocol/zk"
)

// queueEvent keeps a copy of a realtime event that arrived while the client
// waited for a reply, within bounds: an event before the session is open,
// one larger than any real event form, or one over the queue's bounds
// (maxQueuedEvents, maxQueuedEventBytes) is dropped, unacknowledged, so the
// terminal sends it again later; a copy of one already queued (the terminal
// re-sends what waits for its acknowledgement) is not queued twice.
func (c *Client) queueEvent(p zk.Packet) {
	if !c.eventOK(p) {
		return
	}
	for _, q := range c.events {
		if q.Reply == p.Reply && q.Session == p.Session && bytes.Equal(q.Data, p.Data) {
			return
		}
	}
	if len(c.events) >= maxQueuedEvents || c.eventBytes+len(p.Data) > maxQueuedEventBytes {
		c.drop(p, "the queue of events waiting for a reply is full")
		return
	}
	p.Data = bytes.Clone(p.Data)
	c.events = append(c.events, p)
	c.eventBytes += len(p.Data)
}

// eventOK drops an event that no real terminal sends: before the session
// is open, or larger than any event form.
func (c *Client) eventOK(p zk.Packet) bool {
	switch {
	case c.session == 0:
		c.drop(p, "an event before the session is open")
		return false
	case len(p.Data) > maxEventData:
		c.drop(p, fmt.Sprintf("an event of %d bytes, more than any event form", len(p.Data)))
		return false
	}
	return true
}

// drop counts a dropped event and tells the owner.
func (c *Client) drop(p zk.Packet, why string) {
	c.dropped++
	if c.onDrop != nil {
		c.onDrop(p, why)
	}
}

// Dropped returns how many realtime events the client dropped unread.
func (c *Client) Dropped() int { return c.dropped }

// NextEvent returns the next realtime event: one queued during earlier
// exchanges, or one that arrives within wait. ok is false when none came.
// The event's data stays the caller's.
func (c *Client) NextEvent(ctx context.Context, wait time.Duration) (p zk.Packet, ok bool, err error) {
	if len(c.events) > 0 {
		p = c.events[0]
		c.events[0] = zk.Packet{}
		c.events = c.events[1:]
		c.eventBytes -= len(p.Data)
		if len(c.events) == 0 {
			c.events = nil // let the backing array go
		}
		return p, true, nil
	}
	deadline := time.Now().Add(wait)
	for {
		p, err := c.recv(ctx, deadline)
		if isTimeout(err) {
			return zk.Packet{}, false, nil
		}
		if err != nil {
			return zk.Packet{}, false, err
		}
		if p.Command == zk.CmdRegEvent {
			if !c.eventOK(p) {
				continue
			}
			p.Data = bytes.Clone(p.Data)
			return p, true, nil
		}
		// A late reply to an earlier command: nothing waits for it.
	}
}

// AckEvent acknowledges a realtime event, echoing its reply id, so the
// terminal stops re-sending it. Call it only once the event is handled.
func (c *Client) AckEvent(p zk.Packet) error {
	saved := c.reply
	c.reply = p.Reply
	err := c.send(zk.CmdAckOK, nil)
	c.reply = saved
	return err
}
