package zk

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Bulk transfers. A client asks the terminal to prepare a dataset with
// CmdDataWRRQ. A small dataset comes back at once in a CmdData reply;
// otherwise the reply is CmdAckOK with a DataStat giving its size, and the
// client reads it in ranges with CmdDataRDY. A range of up to
// MaxInlineChunk bytes comes back in one CmdData reply; a larger one as
// CmdPrepareData, CmdData packets of at most the announced packet size, and
// CmdAckOK, all with the request's reply id. CmdFreeData ends the transfer.
const (
	WRRQLen        = 11
	DataStatLen    = 13
	ReadRangeLen   = 8
	PrepareDataLen = 8
	MaxInlineChunk = 1024
	// Chunk sizes a client asks for per CmdDataRDY: one frame on TCP, 16
	// datagrams of 1 KiB on UDP.
	TCPChunk = 0xFFC0
	UDPChunk = 16 << 10
	// Packet sizes terminals use for the CmdData packets of a range.
	TCPPacket = 65536 - HeaderLen
	UDPPacket = 1024
)

// WRRQ is the request to prepare a dataset: the table's read command (e.g.
// CmdAttLogRRQ), its fct (e.g. FctUser) and an extra argument.
type WRRQ struct {
	Command Command
	Fct     int32
	Ext     int32
}

// Attendance and user dataset requests.
var (
	WRRQAttendance = WRRQ{Command: CmdAttLogRRQ}
	WRRQUsers      = WRRQ{Command: CmdUserTempRRQ, Fct: FctUser}
)

// Append appends the 11-byte request: 01, u16 command, i32 fct, i32 ext.
func (r WRRQ) Append(dst []byte) []byte {
	dst = append(dst, 1)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(r.Command))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(r.Fct))
	return binary.LittleEndian.AppendUint32(dst, uint32(r.Ext))
}

// ParseWRRQ decodes a dataset request.
func ParseWRRQ(b []byte) (WRRQ, error) {
	if len(b) < WRRQLen || b[0] != 1 {
		return WRRQ{}, fmt.Errorf("%w: dataset request % x", ErrBadLength, b)
	}
	return WRRQ{
		Command: Command(binary.LittleEndian.Uint16(b[1:])),
		Fct:     int32(binary.LittleEndian.Uint32(b[3:])),
		Ext:     int32(binary.LittleEndian.Uint32(b[7:])),
	}, nil
}

// DataStat is the terminal's answer to a WRRQ for a large dataset.
type DataStat struct {
	Size uint32 // bytes to read, the dataset's u32 length prefix included
	Hash uint32 // a checksum of some kind; not verifiable from outside
}

// Append appends the 13-byte form: 00, u32 size, u32 size, u32 hash.
func (s DataStat) Append(dst []byte) []byte {
	dst = append(dst, 0)
	dst = binary.LittleEndian.AppendUint32(dst, s.Size)
	dst = binary.LittleEndian.AppendUint32(dst, s.Size)
	return binary.LittleEndian.AppendUint32(dst, s.Hash)
}

// ParseDataStat decodes the 13-byte answer. Clients read only the first
// size, as terminals repeat it.
func ParseDataStat(b []byte) (DataStat, error) {
	if len(b) < 5 {
		return DataStat{}, fmt.Errorf("%w: data stat of %d bytes", ErrBadLength, len(b))
	}
	s := DataStat{Size: binary.LittleEndian.Uint32(b[1:])}
	if len(b) >= DataStatLen {
		s.Hash = binary.LittleEndian.Uint32(b[9:])
	}
	return s, nil
}

// ReadRange is a CmdDataRDY request: read Size bytes from Offset of the
// prepared dataset.
type ReadRange struct{ Offset, Size uint32 }

// Append appends the 8-byte form.
func (r ReadRange) Append(dst []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, r.Offset)
	return binary.LittleEndian.AppendUint32(dst, r.Size)
}

// ParseReadRange decodes a CmdDataRDY request.
func ParseReadRange(b []byte) (ReadRange, error) {
	if len(b) < ReadRangeLen {
		return ReadRange{}, fmt.Errorf("%w: read range of %d bytes", ErrBadLength, len(b))
	}
	return ReadRange{Offset: binary.LittleEndian.Uint32(b), Size: binary.LittleEndian.Uint32(b[4:])}, nil
}

// PrepareData announces the CmdData packets of a range.
type PrepareData struct{ Size, PacketSize uint32 }

// Append appends the 8-byte form.
func (p PrepareData) Append(dst []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, p.Size)
	return binary.LittleEndian.AppendUint32(dst, p.PacketSize)
}

// ParsePrepareData decodes a CmdPrepareData payload. Some terminals send
// only the size.
func ParsePrepareData(b []byte) (PrepareData, error) {
	if len(b) < 4 {
		return PrepareData{}, fmt.Errorf("%w: prepare-data of %d bytes", ErrBadLength, len(b))
	}
	p := PrepareData{Size: binary.LittleEndian.Uint32(b)}
	if len(b) >= PrepareDataLen {
		p.PacketSize = binary.LittleEndian.Uint32(b[4:])
	}
	return p, nil
}

// AppendOptionRequest appends a CmdOptionsRRQ payload: the name and a NUL.
func AppendOptionRequest(dst []byte, name string) []byte {
	return append(append(dst, name...), 0)
}

// ParseOption splits a "Name=Value\x00" payload at the first '=' and the
// first NUL.
func ParseOption(b []byte) (name, value string, err error) {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	n, v, ok := bytes.Cut(b, []byte("="))
	if !ok {
		return "", "", fmt.Errorf("%w: option %q has no '='", ErrBadLength, b)
	}
	return string(n), string(v), nil
}

// AppendOption appends a "Name=Value\x00" payload.
func AppendOption(dst []byte, name, value string) []byte {
	return append(append(append(append(dst, name...), '='), value...), 0)
}

// CString returns b up to its first NUL, as terminals pad strings.
func CString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
