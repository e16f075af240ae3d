package zkpull

import (
	"bytes"
	"context"
	"time"

	"github.com/punchbox/punchbox/protocol/zk"
)

// queueEvent keeps a copy of a realtime event that arrived while the client
// waited for a reply.
func (c *Client) queueEvent(p zk.Packet) {
	p.Data = bytes.Clone(p.Data)
	c.events = append(c.events, p)
}

// NextEvent returns the next realtime event: one queued during earlier
// exchanges, or one that arrives within wait. ok is false when none came.
// The event's data stays the caller's.
func (c *Client) NextEvent(ctx context.Context, wait time.Duration) (p zk.Packet, ok bool, err error) {
	if len(c.events) > 0 {
		p = c.events[0]
		c.events = c.events[1:]
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
