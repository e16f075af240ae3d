package zk

import "encoding/binary"

// HeaderLen is the length of the inner packet header.
const HeaderLen = 8

// Packet is the inner packet every transport carries: an 8-byte header of
// four little-endian u16 (command, checksum, session, reply id) and data.
//
// In a realtime event the session slot holds the event code; in the DATA
// packets of a large transfer terminals put a packet index there.
type Packet struct {
	Command  Command
	Checksum uint16 // as received; Append computes it
	Session  uint16
	Reply    uint16
	Data     []byte
}

// Len is the length of the encoded packet.
func (p Packet) Len() int { return HeaderLen + len(p.Data) }

// Append appends the encoded packet to dst, with its checksum computed.
func (p Packet) Append(dst []byte) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(p.Command))
	dst = append(dst, 0, 0)
	dst = binary.LittleEndian.AppendUint16(dst, p.Session)
	dst = binary.LittleEndian.AppendUint16(dst, p.Reply)
	dst = append(dst, p.Data...)
	binary.LittleEndian.PutUint16(dst[start+2:], packetChecksum(dst[start:], 2))
	return dst
}

// ParsePacket decodes one inner packet, the whole of b. Data aliases b. It
// returns ErrShortPacket for fewer than 8 bytes and ErrChecksum, together
// with the decoded packet, when the checksum does not match.
func ParsePacket(b []byte) (Packet, error) {
	if len(b) < HeaderLen {
		return Packet{}, ErrShortPacket
	}
	p := Packet{
		Command:  Command(binary.LittleEndian.Uint16(b[0:])),
		Checksum: binary.LittleEndian.Uint16(b[2:]),
		Session:  binary.LittleEndian.Uint16(b[4:]),
		Reply:    binary.LittleEndian.Uint16(b[6:]),
		Data:     b[HeaderLen:],
	}
	if packetChecksum(b, 2) != p.Checksum {
		return p, ErrChecksum
	}
	return p, nil
}
