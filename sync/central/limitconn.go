package central

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// paho reads a whole packet into memory before it looks at it: a PUBLISH
// that says it holds 100 MB makes it allocate 100 MB. limitConn stands
// between paho and the broker and reads the fixed header of every packet
// the broker sends first. A PUBLISH over the bound is not buffered: its
// topic, flags and packet id are kept, the first oversizePrefix bytes of
// its payload too, the rest is read and thrown away as it arrives, and
// paho is handed a small PUBLISH in its place whose payload starts with
// oversizeMarker. paho acknowledges it as usual (no redelivery, the
// session goes on), and the command runner answers it with an error
// that carries the request id when the prefix holds it. Any other packet
// over the bound is a broken broker: the connection is closed.

const (
	// oversizeMarker starts the payload that stands in for one over the
	// bound: "\x00punchbox-oversize:<bytes>:" and the payload's prefix.
	// No JSON starts with a NUL byte.
	oversizeMarker = "\x00punchbox-oversize:"
	// oversizePrefix is how much of an oversized payload is kept, to find
	// its request id.
	oversizePrefix = 4 << 10
	// maxControl bounds every packet from the broker other than a
	// PUBLISH: acknowledgements are a few bytes.
	maxControl = 64 << 10
)

// errPacketTooLarge is a non-PUBLISH packet over maxControl.
var errPacketTooLarge = errors.New("packet from the broker too large")

// limitConn is a net.Conn whose reads pass the broker's packets through,
// but for PUBLISH packets over max, which are replaced as described above.
type limitConn struct {
	net.Conn
	r       *bufio.Reader
	max     int
	pending []byte // bytes for the reader: a header, or a whole replacement
	body    int    // bytes of the current packet's body still to pass through
	err     error  // a framing error: every later read returns it
}

func newLimitConn(c net.Conn, max int) *limitConn {
	return &limitConn{Conn: c, r: bufio.NewReaderSize(c, 16<<10), max: max}
}

func (c *limitConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(c.pending) == 0 && c.body == 0 {
		if c.err != nil {
			return 0, c.err
		}
		if err := c.next(); err != nil {
			c.err = err
			if errors.Is(err, errPacketTooLarge) {
				c.Conn.Close()
			}
		}
	}
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	n, err := c.r.Read(p[:min(len(p), c.body)])
	c.body -= n
	return n, err
}

// next reads the next packet's fixed header and sets up what Read passes on.
func (c *limitConn) next() error {
	first, err := c.r.ReadByte()
	if err != nil {
		return err
	}
	length, lenBytes, err := readVarint(c.r)
	if err != nil {
		return err
	}
	isPublish := first>>4 == 3
	switch {
	case isPublish && length > c.max:
		return c.replace(first, length)
	case !isPublish && length > maxControl:
		return fmt.Errorf("%w: type %d, %d bytes", errPacketTooLarge, first>>4, length)
	}
	c.pending = append(append(c.pending[:0], first), lenBytes...)
	c.body = length
	return nil
}

// replace reads an oversized PUBLISH of length bytes after its fixed
// header, keeping only its head, and queues the small one standing in
// for it.
func (c *limitConn) replace(first byte, length int) error {
	var tl [2]byte
	if _, err := io.ReadFull(c.r, tl[:]); err != nil {
		return unexpected(err)
	}
	topicLen := int(binary.BigEndian.Uint16(tl[:]))
	head := 2 + topicLen
	if first&0x06 != 0 { // QoS 1 or 2: a packet id follows the topic
		head += 2
	}
	if head > length {
		return fmt.Errorf("malformed PUBLISH from the broker: %d bytes of header in %d", head, length)
	}
	vh := make([]byte, head)
	copy(vh, tl[:])
	if _, err := io.ReadFull(c.r, vh[2:]); err != nil {
		return unexpected(err)
	}
	size := length - head
	prefix := make([]byte, min(size, oversizePrefix))
	if _, err := io.ReadFull(c.r, prefix); err != nil {
		return unexpected(err)
	}
	if _, err := io.CopyN(io.Discard, c.r, int64(size-len(prefix))); err != nil {
		return unexpected(err)
	}
	payload := append(append([]byte(oversizeMarker), strconv.Itoa(size)+":"...), prefix...)
	var b bytes.Buffer
	b.WriteByte(first)
	b.Write(appendVarint(nil, len(vh)+len(payload)))
	b.Write(vh)
	b.Write(payload)
	c.pending = b.Bytes()
	return nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readVarint reads an MQTT remaining length (1 to 4 bytes, 7 bits each)
// and returns it with its encoding.
func readVarint(r io.ByteReader) (int, []byte, error) {
	var n int
	var enc []byte
	for i := 0; i < 4; i++ {
		b, err := r.ReadByte()
		if err != nil {
			return 0, nil, unexpected(err)
		}
		enc = append(enc, b)
		n |= int(b&0x7f) << (7 * i)
		if b&0x80 == 0 {
			return n, enc, nil
		}
	}
	return 0, nil, errors.New("malformed remaining length from the broker")
}

func appendVarint(b []byte, n int) []byte {
	for {
		d := byte(n & 0x7f)
		n >>= 7
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			return b
		}
	}
}

// oversized reports whether payload stands in for one over the bound, and
// if so its size and the prefix that was kept.
func oversized(payload []byte) (size int, prefix []byte, ok bool) {
	rest, ok := bytes.CutPrefix(payload, []byte(oversizeMarker))
	if !ok {
		return 0, nil, false
	}
	num, prefix, ok := bytes.Cut(rest, []byte(":"))
	if !ok {
		return 0, nil, false
	}
	size, err := strconv.Atoi(string(num))
	if err != nil {
		return 0, nil, false
	}
	return size, prefix, true
}

// dialer opens the connection to the broker for paho, with every read
// going through a limitConn bounding PUBLISH payloads to max bytes.
func (o *Options) dialer(tlsCfg *tls.Config, max int) mqtt.OpenConnectionFunc {
	return func(u *url.URL, _ mqtt.ClientOptions) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(context.Background(), o.ConnectTimeout)
		defer cancel()
		var c net.Conn
		var err error
		if tlsCfg != nil {
			d := &tls.Dialer{NetDialer: &net.Dialer{}, Config: tlsCfg}
			c, err = d.DialContext(ctx, "tcp", u.Host)
		} else {
			c, err = (&net.Dialer{}).DialContext(ctx, "tcp", u.Host)
		}
		if err != nil {
			return nil, err
		}
		return newLimitConn(c, max), nil
	}
}
