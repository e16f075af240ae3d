package zk

import (
	"encoding/binary"
	"fmt"
)

// TCP framing: every inner packet is preceded by an 8-byte header, the tag
// 50 50 82 7d followed by the u32 little-endian length of the packet.
const (
	TCPHeaderLen = 8
	// MaxTCPFrame bounds the packet length a TCPDecoder accepts. Terminals
	// send at most 64 KiB per frame; anything much larger is a corrupt or
	// hostile stream.
	MaxTCPFrame = 1 << 20
)

var tcpMagic = [4]byte{0x50, 0x50, 0x82, 0x7d}

// AppendTCP appends p with its TCP header to dst.
func AppendTCP(dst []byte, p Packet) []byte {
	dst = append(dst, tcpMagic[:]...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(p.Len()))
	return p.Append(dst)
}

// TCPDecoder cuts a TCP byte stream into packets. Feed it what the socket
// delivers, in any pieces: frames split across reads and several frames in
// one read are both handled. It holds at most one partial frame and what
// the last Feed brought: a frame's announced length is checked against Max
// before any of it is kept.
type TCPDecoder struct {
	stream
	// Max is the longest packet accepted (header included); 0 means
	// MaxTCPFrame. A client sets it to what terminals really send.
	Max int
}

// Next returns the next complete packet, or ok=false when more bytes are
// needed. Its Data aliases the decoder's buffer and stays valid until the
// next Feed. A stream that does not start with the tag or announces an
// oversized frame is broken for good: Next returns ErrBadMagic or
// ErrFrameTooLarge and the stream must be closed. A bad checksum
// (ErrChecksum) consumes the frame, so the stream stays usable.
func (d *TCPDecoder) Next() (p Packet, ok bool, err error) {
	b := d.buf[d.off:]
	if len(b) < TCPHeaderLen {
		return Packet{}, false, nil
	}
	if [4]byte(b[:4]) != tcpMagic {
		return Packet{}, false, fmt.Errorf("%w: % x", ErrBadMagic, b[:4])
	}
	n := binary.LittleEndian.Uint32(b[4:])
	limit := uint32(MaxTCPFrame)
	if d.Max > 0 && d.Max < MaxTCPFrame {
		limit = uint32(d.Max)
	}
	if n > limit {
		return Packet{}, false, fmt.Errorf("%w: %d bytes, the limit is %d", ErrFrameTooLarge, n, limit)
	}
	if uint32(len(b)-TCPHeaderLen) < n {
		return Packet{}, false, nil
	}
	d.off += TCPHeaderLen + int(n)
	p, err = ParsePacket(b[TCPHeaderLen : TCPHeaderLen+int(n)])
	if err != nil {
		return p, false, err
	}
	return p, true, nil
}

// stream is the buffer behind a decoder: bytes fed in, consumed from the
// front.
type stream struct {
	buf []byte
	off int // start of unconsumed bytes in buf
}

// Feed appends bytes read from the stream. Packets returned by Next before
// this call are no longer valid afterwards.
func (s *stream) Feed(b []byte) {
	if s.off > 0 {
		n := copy(s.buf, s.buf[s.off:])
		s.buf = s.buf[:n]
		s.off = 0
	}
	s.buf = append(s.buf, b...)
}

// Buffered returns how many bytes wait for the rest of their frame.
func (s *stream) Buffered() int { return len(s.buf) - s.off }

// Reset discards buffered bytes.
func (s *stream) Reset() { s.buf, s.off = s.buf[:0], 0 }
