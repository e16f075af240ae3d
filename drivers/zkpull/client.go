package zkpull

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/punchbox/punchbox/protocol/zk"
)

// Errors of the client.
var (
	ErrWrongCommKey = errors.New("terminal refused the comm key: wrong comm key")
	ErrNoCommKey    = errors.New("terminal requires a comm key, and none is configured")
	ErrClosed       = errors.New("connection closed by the terminal")
)

// DefaultTimeout bounds the wait for each reply packet.
const DefaultTimeout = 5 * time.Second

// Client is one protocol session with a terminal, over TCP or UDP. It is not
// safe for concurrent use: one goroutine owns it.
type Client struct {
	conn    net.Conn
	udp     bool
	timeout time.Duration
	session uint16
	reply   uint16
	dec     zk.TCPDecoder
	buf     []byte
	events  []zk.Packet // realtime events received while waiting for replies
	// eventBytes is the payload held in events; dropped counts events
	// dropped unread, and onDrop, if set, hears of each.
	eventBytes int
	dropped    int
	onDrop     func(p zk.Packet, why string)
	out        []byte
	// sizes are the counts and capacities the terminal reported last, the
	// bounds of what it may send (sizesKnown once it reported them).
	sizes      zk.Sizes
	sizesKnown bool
}

// Dial opens a connection to addr ("host:port") over "tcp" or "udp". The
// session begins with Connect.
func Dial(ctx context.Context, transport, addr string, timeout time.Duration) (*Client, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, transport, addr)
	if err != nil {
		return nil, err // net's error names the transport and address
	}
	c := &Client{conn: conn, udp: transport == "udp", timeout: timeout, buf: make([]byte, 64<<10+64)}
	c.dec.Max = maxFrame
	return c, nil
}

// Transport returns "tcp" or "udp".
func (c *Client) Transport() string {
	if c.udp {
		return "udp"
	}
	return "tcp"
}

// Connect opens the session, authenticating with commKey when the terminal
// asks for one.
func (c *Client) Connect(ctx context.Context, commKey uint32) error {
	c.session, c.reply = 0, 0
	p, err := c.exchangeRaw(ctx, zk.CmdConnect, nil)
	if err != nil {
		return err
	}
	c.session = p.Session
	switch p.Command {
	case zk.CmdAckOK:
		return nil
	case zk.CmdAckUnauth:
	default:
		return fmt.Errorf("connect: %w", zk.CheckReply(zk.CmdConnect, p.Command))
	}
	key := zk.MakeCommKey(commKey, c.session, 50)
	p, err = c.exchangeRaw(ctx, zk.CmdAuth, key[:])
	if err != nil {
		return err
	}
	switch {
	case p.Command == zk.CmdAckOK:
		return nil
	case p.Command == zk.CmdAckUnauth && commKey == 0:
		return ErrNoCommKey
	case p.Command == zk.CmdAckUnauth:
		return ErrWrongCommKey
	}
	return fmt.Errorf("auth: %w", zk.CheckReply(zk.CmdAuth, p.Command))
}

// Close ends the session politely (EXIT) and closes the connection.
func (c *Client) Close() error {
	if c.session != 0 {
		c.conn.SetDeadline(time.Now().Add(time.Second))
		c.send(zk.CmdExit, nil)
	}
	return c.conn.Close()
}

// Session returns the session id the terminal assigned.
func (c *Client) Session() uint16 { return c.session }

// Exchange sends a command and returns the reply's data, turning a failure
// reply into a zk.ReplyError.
func (c *Client) Exchange(ctx context.Context, cmd zk.Command, data []byte) ([]byte, error) {
	p, err := c.exchangeRaw(ctx, cmd, data)
	if err != nil {
		return nil, err
	}
	if err := zk.CheckReply(cmd, p.Command); err != nil {
		return nil, err
	}
	return p.Data, nil
}

// exchangeRaw sends a command and waits for the reply with its reply id,
// queueing realtime events that arrive meanwhile. On UDP a lost datagram is
// covered by sending again, up to three times. The reply's data stays valid
// until the next call.
func (c *Client) exchangeRaw(ctx context.Context, cmd zk.Command, data []byte) (zk.Packet, error) {
	if cmd != zk.CmdConnect {
		c.reply++
		if c.reply == 0xFFFF {
			c.reply = 0
		}
	}
	attempts := 1
	if c.udp {
		attempts = 3
	}
	var err error
	for i := 0; i < attempts; i++ {
		if err = c.send(cmd, data); err != nil {
			return zk.Packet{}, err
		}
		var p zk.Packet
		p, err = c.awaitReply(ctx, cmd)
		if err == nil {
			return p, nil
		}
		if !isTimeout(err) || ctx.Err() != nil {
			break
		}
	}
	return zk.Packet{}, err
}

// awaitReply reads packets until the reply to the current reply id.
func (c *Client) awaitReply(ctx context.Context, cmd zk.Command) (zk.Packet, error) {
	deadline := time.Now().Add(c.timeout)
	for {
		p, err := c.recv(ctx, deadline)
		if err != nil {
			return zk.Packet{}, fmt.Errorf("%s: %w", cmd, err)
		}
		if p.Command == zk.CmdRegEvent {
			c.queueEvent(p)
			continue
		}
		if p.Reply != c.reply {
			continue // a stale reply to a command sent again
		}
		return p, nil
	}
}

func (c *Client) send(cmd zk.Command, data []byte) error {
	p := zk.Packet{Command: cmd, Session: c.session, Reply: c.reply, Data: data}
	if c.udp {
		c.out = p.Append(c.out[:0])
	} else {
		c.out = zk.AppendTCP(c.out[:0], p)
	}
	c.conn.SetWriteDeadline(time.Now().Add(c.timeout))
	if _, err := c.conn.Write(c.out); err != nil {
		return fmt.Errorf("send %s: %w", cmd, err)
	}
	return nil
}

// recv returns the next packet, waiting until deadline or ctx's end. Its
// data stays valid until the next recv.
func (c *Client) recv(ctx context.Context, deadline time.Time) (zk.Packet, error) {
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	stop := context.AfterFunc(ctx, func() { c.conn.SetReadDeadline(time.Now()) })
	defer stop()
	for {
		if !c.udp {
			p, ok, err := c.dec.Next()
			if err != nil {
				return zk.Packet{}, err
			}
			if ok {
				return p, nil
			}
		}
		if err := ctx.Err(); err != nil {
			return zk.Packet{}, err
		}
		c.conn.SetReadDeadline(deadline)
		n, err := c.conn.Read(c.buf)
		if err != nil {
			if ctx.Err() != nil {
				return zk.Packet{}, ctx.Err()
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return zk.Packet{}, errTimeout
			}
			if errors.Is(err, net.ErrClosed) || isEOF(err) {
				return zk.Packet{}, ErrClosed
			}
			return zk.Packet{}, err
		}
		if c.udp {
			p, err := zk.ParsePacket(c.buf[:n])
			if err != nil {
				continue // a garbled datagram: as if lost
			}
			return p, nil
		}
		c.dec.Feed(c.buf[:n])
	}
}

var errTimeout = errors.New("no reply from the terminal in time")

func isTimeout(err error) bool { return errors.Is(err, errTimeout) }

func isEOF(err error) bool { return errors.Is(err, io.EOF) }

// Option reads one option, e.g. "~SerialNumber": its value, cleaned of
// control characters and invalid UTF-8 and cut to 256 bytes (zk.Text).
func (c *Client) Option(ctx context.Context, name string) (string, error) {
	data, err := c.Exchange(ctx, zk.CmdOptionsRRQ, zk.AppendOptionRequest(nil, name))
	if err != nil {
		return "", fmt.Errorf("read option %s: %w", name, err)
	}
	_, v, err := zk.ParseOption(data)
	if err != nil {
		return "", fmt.Errorf("read option %s: %w", name, err)
	}
	return zk.CleanString(v, maxOption), nil
}

// Version returns the firmware version string, cleaned as Option's.
func (c *Client) Version(ctx context.Context) (string, error) {
	data, err := c.Exchange(ctx, zk.CmdGetVersion, nil)
	if err != nil {
		return "", fmt.Errorf("read firmware version: %w", err)
	}
	return zk.Text(data, maxOption), nil
}

// Sizes returns the terminal's counts and capacities.
func (c *Client) Sizes(ctx context.Context) (zk.Sizes, error) {
	data, err := c.Exchange(ctx, zk.CmdGetFreeSizes, nil)
	if err != nil {
		return zk.Sizes{}, fmt.Errorf("read free sizes: %w", err)
	}
	s, err := zk.ParseSizes(data)
	if err != nil {
		return zk.Sizes{}, fmt.Errorf("read free sizes: %w", err)
	}
	c.sizes, c.sizesKnown = s, true
	return s, nil
}

// Time reads the terminal's clock.
func (c *Client) Time(ctx context.Context) (zk.Time, error) {
	data, err := c.Exchange(ctx, zk.CmdGetTime, nil)
	if err != nil {
		return zk.Time{}, fmt.Errorf("read clock: %w", err)
	}
	if len(data) < 4 {
		return zk.Time{}, fmt.Errorf("read clock: %w", zk.ErrBadLength)
	}
	return zk.DecodeTime(uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16 | uint32(data[3])<<24), nil
}

// SetTime sets the terminal's clock and makes it take effect.
func (c *Client) SetTime(ctx context.Context, t zk.Time) error {
	v, err := zk.EncodeTime(t)
	if err != nil {
		return err
	}
	if _, err := c.Exchange(ctx, zk.CmdSetTime, []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}); err != nil {
		return fmt.Errorf("set clock: %w", err)
	}
	return c.Refresh(ctx)
}

// Refresh makes the terminal reload its data after a write.
func (c *Client) Refresh(ctx context.Context) error {
	if _, err := c.Exchange(ctx, zk.CmdRefreshData, nil); err != nil {
		return fmt.Errorf("refresh data: %w", err)
	}
	return nil
}

// Disable locks the terminal's keypad and sensors for a bulk operation. The
// terminal re-enables itself after timeout of silence, so a crashed box can
// never leave it locked.
func (c *Client) Disable(ctx context.Context, timeout time.Duration) error {
	s := uint32(max(timeout/time.Second, 1))
	if _, err := c.Exchange(ctx, zk.CmdDisableDevice, []byte{byte(s), byte(s >> 8), byte(s >> 16), byte(s >> 24)}); err != nil {
		return fmt.Errorf("disable terminal: %w", err)
	}
	return nil
}

// Enable lets users punch again.
func (c *Client) Enable(ctx context.Context) error {
	if _, err := c.Exchange(ctx, zk.CmdEnableDevice, nil); err != nil {
		return fmt.Errorf("enable terminal: %w", err)
	}
	return nil
}

// ClearAttendance empties the terminal's attendance log. Callers must hold
// DESIGN invariant 2: every punch in it is stored (and, by policy, delivered).
func (c *Client) ClearAttendance(ctx context.Context) error {
	if _, err := c.Exchange(ctx, zk.CmdClearAttLog, nil); err != nil {
		return fmt.Errorf("clear attendance log: %w", err)
	}
	return c.Refresh(ctx)
}
