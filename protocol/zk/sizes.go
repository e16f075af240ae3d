package zk

import (
	"encoding/binary"
	"fmt"
)

// Sizes is the reply to CmdGetFreeSizes: counts and capacities. Treat the
// counts as hints: some firmware reports them wrongly.
type Sizes struct {
	Users, Fingers, Records, OpLogs, Admins, Passwords int
	FingerCap, UserCap, RecordCap                      int
	FingerFree, UserFree, RecordFree                   int
	Faces, FaceCap                                     int
	HasFaces                                           bool // the reply carried the face fields
}

// SizesLen is the length of the full reply (23 little-endian i32).
const SizesLen = 92

// sizesMin is the shortest reply that holds the record counts and
// capacities (20 i32).
const sizesMin = 80

// ParseSizes decodes a free-sizes reply of 80 or more bytes. Longer variants
// (112 bytes on some face terminals) are accepted and their extra fields
// ignored. A shorter reply, such as the single zero u32 some models send, is
// an error: the counts are unknown, not zero.
func ParseSizes(b []byte) (Sizes, error) {
	if len(b) < sizesMin {
		return Sizes{}, fmt.Errorf("%w: free sizes of %d bytes, want at least %d", ErrBadLength, len(b), sizesMin)
	}
	f := func(i int) int { return int(int32(binary.LittleEndian.Uint32(b[4*i:]))) }
	s := Sizes{
		Users: f(4), Fingers: f(6), Records: f(8), OpLogs: f(10), Admins: f(12), Passwords: f(13),
		FingerCap: f(14), UserCap: f(15), RecordCap: f(16),
		FingerFree: f(17), UserFree: f(18), RecordFree: f(19),
	}
	if len(b) >= SizesLen {
		s.Faces, s.FaceCap, s.HasFaces = f(20), f(22), true
	}
	return s, nil
}

// Append appends the 92-byte encoding of s.
func (s Sizes) Append(dst []byte) []byte {
	var v [23]int
	v[4], v[6], v[8], v[10], v[12], v[13] = s.Users, s.Fingers, s.Records, s.OpLogs, s.Admins, s.Passwords
	v[14], v[15], v[16] = s.FingerCap, s.UserCap, s.RecordCap
	v[17], v[18], v[19] = s.FingerFree, s.UserFree, s.RecordFree
	v[20], v[22] = s.Faces, s.FaceCap
	for _, x := range v {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(int32(x)))
	}
	return dst
}
