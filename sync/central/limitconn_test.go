package central

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// publishPacket encodes a PUBLISH: flags holds QoS (<<1) and retain.
func publishPacket(flags byte, topic string, id uint16, payload []byte) []byte {
	var vh []byte
	vh = binary.BigEndian.AppendUint16(vh, uint16(len(topic)))
	vh = append(vh, topic...)
	if flags&0x06 != 0 {
		vh = binary.BigEndian.AppendUint16(vh, id)
	}
	b := []byte{0x30 | flags}
	b = appendVarint(b, len(vh)+len(payload))
	return append(append(b, vh...), payload...)
}

// streamConn is a net.Conn reading from r (the broker's side).
type streamConn struct {
	net.Conn
	r      io.Reader
	closed bool
}

func (c *streamConn) Read(p []byte) (int, error) { return c.r.Read(p) }
func (c *streamConn) Close() error               { c.closed = true; return nil }

// Packets within the bound pass through byte for byte, however the reads
// are cut.
func TestLimitConnPassesThrough(t *testing.T) {
	var stream []byte
	stream = append(stream, 0x20, 0x02, 0x00, 0x00) // CONNACK
	stream = append(stream, publishPacket(0x02, "punchbox/v1/a/b/cmd/pull", 7, []byte(`{"request_id":"x"}`))...)
	stream = append(stream, 0xd0, 0x00) // PINGRESP
	stream = append(stream, publishPacket(0x01, "t", 0, bytes.Repeat([]byte("y"), 1000))...)
	for _, chunk := range []int{1, 3, 7, 4096} {
		c := newLimitConn(&streamConn{r: &chunkReader{b: stream, n: chunk}}, 1000+3)
		got, err := io.ReadAll(c)
		if err != nil || !bytes.Equal(got, stream) {
			t.Fatalf("chunks of %d: %v; got %d bytes, want %d", chunk, err, len(got), len(stream))
		}
	}
}

type chunkReader struct {
	b []byte
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.n)], r.b)
	r.b = r.b[n:]
	return n, nil
}

// zeros is an endless source of payload bytes that costs no memory.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// A PUBLISH of 64 MiB is read through, not into memory: paho gets a small
// stand-in with the same topic, packet id and flags, and the prefix that
// holds the request id. (paho alone allocates the whole packet at once.)
func TestLimitConnReplacesOversizedPublish(t *testing.T) {
	const size = 64 << 20
	head := []byte(`{"request_id":"big-1","employees":[`)
	pkt := publishPacket(0x02|0x01, "punchbox/v1/a/b/cmd/roster", 4242, head)
	// Fix the remaining length to claim the whole size, then stream the
	// rest of the payload, then a PINGRESP.
	vhLen := 2 + len("punchbox/v1/a/b/cmd/roster") + 2
	hdr := appendVarint([]byte{0x33}, vhLen+size)
	body := pkt[len(pkt)-vhLen-len(head):]
	src := io.MultiReader(bytes.NewReader(hdr), bytes.NewReader(body), io.LimitReader(zeros{}, int64(size-len(head))), bytes.NewReader([]byte{0xd0, 0x00}))
	c := newLimitConn(&streamConn{r: src}, maxCommand)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cp, err := packets.ReadPacket(c)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Errorf("reading a %d-byte PUBLISH allocated %d bytes", size, grew)
	}
	p, ok := cp.(*packets.PublishPacket)
	if !ok {
		t.Fatalf("got %T", cp)
	}
	if p.TopicName != "punchbox/v1/a/b/cmd/roster" || p.MessageID != 4242 || p.Qos != 1 || !p.Retain {
		t.Errorf("stand-in = topic %q id %d qos %d retain %v", p.TopicName, p.MessageID, p.Qos, p.Retain)
	}
	n, prefix, ok := oversized(p.Payload)
	if !ok || n != size || !bytes.HasPrefix(prefix, head) {
		t.Errorf("payload %q: size %d, ok %v", p.Payload[:min(len(p.Payload), 80)], n, ok)
	}
	if id := requestID(p.Payload); id != "big-1" {
		t.Errorf("request id %q from the prefix", id)
	}
	// The stream goes on with the next packet.
	if cp, err := packets.ReadPacket(c); err != nil {
		t.Fatal(err)
	} else if _, ok := cp.(*packets.PingrespPacket); !ok {
		t.Errorf("next packet %T", cp)
	}
}

// Any other packet over its bound closes the connection.
func TestLimitConnRefusesHugeControlPacket(t *testing.T) {
	sc := &streamConn{r: bytes.NewReader(appendVarint([]byte{0x90}, 10<<20))} // a SUBACK of 10 MiB
	c := newLimitConn(sc, maxCommand)
	if _, err := c.Read(make([]byte, 10)); !errors.Is(err, errPacketTooLarge) || !sc.closed {
		t.Fatalf("err %v, closed %v", err, sc.closed)
	}
	if _, err := c.Read(make([]byte, 10)); !errors.Is(err, errPacketTooLarge) {
		t.Errorf("the next read: %v", err)
	}
}

// Whatever the broker sends, limitConn neither panics nor hands on more
// than it read, and a stream of packets within the bound comes out as it
// went in.
func FuzzLimitConn(f *testing.F) {
	f.Add([]byte{0x20, 0x02, 0x00, 0x00}, 16)
	f.Add(publishPacket(0x02, "a/cmd/x", 1, []byte(`{"request_id":"q"}`)), 8)
	f.Add(publishPacket(0x03, "a", 1, bytes.Repeat([]byte{'z'}, 300)), 100)
	f.Add([]byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x7f}, 10)
	f.Add([]byte{0x32, 0x05, 0xff, 0xff, 0x00}, 2)
	f.Fuzz(func(t *testing.T, stream []byte, max int) {
		max = 1 + max&0xffff
		c := newLimitConn(&streamConn{r: bytes.NewReader(stream)}, max)
		got, _ := io.ReadAll(io.LimitReader(c, int64(len(stream))+1<<20))
		if len(got) > len(stream)+len(oversizeMarker)+32+oversizePrefix*(1+len(stream)/2) {
			t.Fatalf("read %d bytes from a stream of %d", len(got), len(stream))
		}
		if within(stream, max) && !bytes.Equal(got, stream) {
			t.Fatalf("a stream within the bound changed:\n in %x\nout %x", stream, got)
		}
	})
}

// within reports whether stream is whole packets, none over its bound.
func within(stream []byte, max int) bool {
	for len(stream) > 0 {
		first := stream[0]
		n, enc, err := readVarint(bytes.NewReader(stream[1:]))
		if err != nil || 1+len(enc)+n > len(stream) {
			return false
		}
		if (first>>4 == 3 && n > max) || (first>>4 != 3 && n > maxControl) {
			return false
		}
		stream = stream[1+len(enc)+n:]
	}
	return true
}
