package zk

import "math/bits"

// commKeySalt is XORed into the scrambled key: "ZKSO".
var commKeySalt = [4]byte{'Z', 'K', 'S', 'O'}

// MakeCommKey returns the 4 bytes a client sends with CmdAuth to prove it
// knows the terminal's comm key, for the session id the terminal assigned.
// ticks is any byte; the terminal reads it back from the third byte.
func MakeCommKey(key uint32, session uint16, ticks byte) [4]byte {
	c := scramble(key, session)
	return [4]byte{c[0] ^ ticks, c[1] ^ ticks, ticks, c[3] ^ ticks}
}

// CheckCommKey reports whether data, the payload of a CmdAuth packet, proves
// knowledge of key in session. As terminals do, it takes the ticks byte from
// byte 2 and checks bytes 0, 1 and 3; the scrambled low byte is not sent, so
// keys that differ only in the bits that land there pass alike.
func CheckCommKey(key uint32, session uint16, data []byte) bool {
	if len(data) < 4 {
		return false
	}
	c, t := scramble(key, session), data[2]
	return data[0] == c[0]^t && data[1] == c[1]^t && data[3] == c[3]^t
}

// scramble bit-reverses the key, adds the session id with 32-bit wrap,
// XORs the little-endian bytes with "ZKSO" and swaps the 16-bit halves.
func scramble(key uint32, session uint16) [4]byte {
	k := bits.Reverse32(key) + uint32(session)
	b := [4]byte{byte(k), byte(k >> 8), byte(k >> 16), byte(k >> 24)}
	for i := range b {
		b[i] ^= commKeySalt[i]
	}
	return [4]byte{b[2], b[3], b[0], b[1]}
}
