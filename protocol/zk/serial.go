package zk

import (
	"encoding/binary"
	"fmt"
)

// Serial framing (RS232/RS485): an 8-byte header of the device id twice,
// 0x81, 0x7e, the u16 length of the inner packet, and a u16 checksum over
// the header (with its checksum zeroed) and the packet. The inner packet
// keeps its own checksum too.
const (
	SerialHeaderLen = 8
	MaxSerialFrame  = 0xFFFF
)

// AppendSerial appends p framed for the serial line to the terminal with
// the given device id (1-254).
func AppendSerial(dst []byte, deviceID byte, p Packet) []byte {
	start := len(dst)
	dst = append(dst, deviceID, deviceID, 0x81, 0x7e)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(p.Len()))
	dst = append(dst, 0, 0)
	dst = p.Append(dst)
	binary.LittleEndian.PutUint16(dst[start+6:], packetChecksum(dst[start:], 6))
	return dst
}

// SerialDecoder cuts a serial byte stream into packets. Unlike TCP, a serial
// line can lose or garble bytes, so the decoder resynchronises: bytes that
// cannot start a frame are skipped, and a frame with a bad checksum is
// dropped with ErrChecksum. The u16 length of a frame bounds what it waits
// for; a header announcing more than Max is taken for noise and skipped.
type SerialDecoder struct {
	stream
	Skipped int // bytes discarded while searching for a frame
	// Max is the longest inner packet accepted; 0 means MaxSerialFrame.
	// Terminals send at most 1 KiB of data per packet on a serial line, so
	// a client can set it much lower and resynchronise sooner.
	Max int
}

// Next returns the next complete packet and the device id it came from, or
// ok=false when more bytes are needed.
func (d *SerialDecoder) Next() (p Packet, deviceID byte, ok bool, err error) {
	for {
		b := d.buf[d.off:]
		// Find a header start: id, id, 0x81, 0x7e.
		i := 0
		for ; i+4 <= len(b); i++ {
			if b[i] == b[i+1] && b[i+2] == 0x81 && b[i+3] == 0x7e {
				break
			}
		}
		if i+4 > len(b) {
			// Keep a possible partial header at the end.
			keep := min(len(b), 3)
			d.Skipped += len(b) - keep
			d.off += len(b) - keep
			return Packet{}, 0, false, nil
		}
		d.Skipped += i
		d.off += i
		b = b[i:]
		if len(b) < SerialHeaderLen {
			return Packet{}, 0, false, nil
		}
		n := int(binary.LittleEndian.Uint16(b[4:]))
		if n < HeaderLen || (d.Max > 0 && n > d.Max) {
			d.off++ // not a real header; search on
			d.Skipped++
			continue
		}
		if len(b) < SerialHeaderLen+n {
			return Packet{}, 0, false, nil
		}
		frame := b[:SerialHeaderLen+n]
		if packetChecksum(frame, 6) != binary.LittleEndian.Uint16(frame[6:]) {
			// Treat it as noise: skip one byte so a real frame inside it is found.
			d.off++
			d.Skipped++
			return Packet{}, 0, false, fmt.Errorf("%w: serial frame from device %d", ErrChecksum, b[0])
		}
		d.off += len(frame)
		p, err = ParsePacket(frame[SerialHeaderLen:])
		if err != nil {
			return p, b[0], false, err
		}
		return p, b[0], true, nil
	}
}
