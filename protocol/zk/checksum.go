package zk

// Checksum is the Internet checksum (RFC 1071) that ZK packets carry: the
// ones' complement of the ones'-complement sum of the little-endian 16-bit
// words of b, an odd last byte counting as a low byte.
func Checksum(b []byte) uint16 { return fold(add(0, b)) }

// packetChecksum is the checksum of an encoded packet (or serial frame) as
// if the u16 at offset at, which must be even, were zero.
func packetChecksum(b []byte, at int) uint16 {
	return fold(add(add(0, b[:at]), b[at+2:]))
}

// add adds the little-endian words of b to s. b must start at an even
// offset of the checksummed data.
func add(s uint64, b []byte) uint64 {
	n := len(b) &^ 1
	for i := 0; i < n; i += 2 {
		s += uint64(b[i]) | uint64(b[i+1])<<8
	}
	if len(b)&1 == 1 {
		s += uint64(b[len(b)-1])
	}
	return s
}

// fold folds the carries of a sum into 16 bits and complements it.
func fold(s uint64) uint16 {
	for s>>16 != 0 {
		s = s&0xFFFF + s>>16
	}
	return ^uint16(s)
}
