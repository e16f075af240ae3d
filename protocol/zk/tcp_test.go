package zk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// stream is three frames back to back: a short one, a large one and an
// event, as a terminal might send them.
func sampleStream(t *testing.T) ([]byte, []Packet) {
	big := make([]byte, 65528)
	for i := range big {
		big[i] = byte(i)
	}
	pkts := []Packet{
		{Command: CmdPrepareData, Session: 1, Reply: 9, Data: PrepareData{Size: 65528, PacketSize: TCPPacket}.Append(nil)},
		{Command: CmdData, Session: 0, Reply: 9, Data: big},
		{Command: CmdAckOK, Session: 1, Reply: 9},
	}
	var b []byte
	for _, p := range pkts {
		b = AppendTCP(b, p)
	}
	return b, pkts
}

func drain(t *testing.T, d *TCPDecoder) []Packet {
	t.Helper()
	var out []Packet
	for {
		p, ok, err := d.Next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		p.Data = bytes.Clone(p.Data) // valid only until the next Feed
		out = append(out, p)
	}
}

func samePackets(t *testing.T, got, want []Packet) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d packets, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Command != want[i].Command || got[i].Reply != want[i].Reply || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Fatalf("packet %d differs: %v vs %v", i, got[i].Command, want[i].Command)
		}
	}
}

func TestTCPDecoderReassembly(t *testing.T) {
	b, want := sampleStream(t)
	tests := []struct {
		name  string
		split func(b []byte) [][]byte
	}{
		{"all at once (merged frames)", func(b []byte) [][]byte { return [][]byte{b} }},
		{"byte by byte", func(b []byte) [][]byte {
			out := make([][]byte, len(b))
			for i := range b {
				out[i] = b[i : i+1]
			}
			return out
		}},
		{"split inside the first header", func(b []byte) [][]byte { return [][]byte{b[:5], b[5:]} }},
		{"split inside the big payload", func(b []byte) [][]byte { return [][]byte{b[:40000], b[40000:]} }},
		{"odd chunks as a socket gives them", func(b []byte) [][]byte {
			var out [][]byte
			for i, n := 0, 1; i < len(b); i, n = i+n, n*3%1499+1 {
				out = append(out, b[i:min(i+n, len(b))])
			}
			return out
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d TCPDecoder
			var got []Packet
			for _, piece := range tt.split(b) {
				d.Feed(piece)
				got = append(got, drain(t, &d)...)
			}
			samePackets(t, got, want)
			if d.Buffered() != 0 {
				t.Errorf("%d bytes left over", d.Buffered())
			}
		})
	}
}

func TestTCPDecoderGolden(t *testing.T) {
	p := tcpPacket(t, "tcp-auth-key45")
	if p.Command != CmdAuth || p.Session != 0x45CF || p.Reply != 1 || !bytes.Equal(p.Data, []byte{0x61, 0xc9, 0x32, 0x3c}) {
		t.Errorf("auth frame = %+v", p)
	}
	if got := AppendTCP(nil, Packet{Command: CmdAuth, Session: 0x45CF, Reply: 1, Data: p.Data}); !bytes.Equal(got, vector(t, "tcp-auth-key45")) {
		t.Errorf("AppendTCP = % x", got)
	}
	if p := tcpPacket(t, "tcp-unauth"); p.Command != CmdAckUnauth || p.Session != 0x45CF {
		t.Errorf("unauth frame = %+v", p)
	}
}

func TestTCPDecoderErrors(t *testing.T) {
	t.Run("bad magic", func(t *testing.T) {
		var d TCPDecoder
		d.Feed([]byte("GET / HTTP/1.1\r\n"))
		if _, _, err := d.Next(); !errors.Is(err, ErrBadMagic) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("oversized frame", func(t *testing.T) {
		var d TCPDecoder
		d.Feed(binary.LittleEndian.AppendUint32([]byte{0x50, 0x50, 0x82, 0x7d}, MaxTCPFrame+1))
		if _, _, err := d.Next(); !errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("frame over the decoder's own limit", func(t *testing.T) {
		// A 1 MiB event frame is refused from its header, before any of
		// its bytes are kept.
		d := TCPDecoder{Max: 64 << 10}
		d.Feed(binary.LittleEndian.AppendUint32([]byte{0x50, 0x50, 0x82, 0x7d}, 1<<20))
		_, _, err := d.Next()
		if !errors.Is(err, ErrFrameTooLarge) || !strings.Contains(err.Error(), "1048576 bytes, the limit is 65536") {
			t.Fatalf("err = %v", err)
		}
		d = TCPDecoder{Max: 64 << 10}
		d.Feed(AppendTCP(nil, Packet{Command: CmdData, Data: make([]byte, 64<<10-HeaderLen)}))
		if _, ok, err := d.Next(); !ok || err != nil {
			t.Fatalf("a frame of exactly the limit: %v, %v", ok, err)
		}
	})
	t.Run("bad checksum consumes the frame only", func(t *testing.T) {
		b, want := sampleStream(t)
		b[TCPHeaderLen+HeaderLen] ^= 0xFF // first frame's data
		var d TCPDecoder
		d.Feed(b)
		if _, _, err := d.Next(); !errors.Is(err, ErrChecksum) {
			t.Fatalf("err = %v", err)
		}
		samePackets(t, drain(t, &d), want[1:])
	})
	t.Run("frame shorter than a packet header", func(t *testing.T) {
		var d TCPDecoder
		d.Feed([]byte{0x50, 0x50, 0x82, 0x7d, 4, 0, 0, 0, 1, 2, 3, 4})
		if _, _, err := d.Next(); !errors.Is(err, ErrShortPacket) {
			t.Fatalf("err = %v", err)
		}
	})
}
