package zk

import (
	"testing"
)

// BenchmarkDecodeAttendance40 decodes 1,000,000 records in the 40-byte form
// and reports records/s (goal: at least 10 million).
func BenchmarkDecodeAttendance40(b *testing.B) {
	const n = 1_000_000
	recs := sampleAttendance(n)
	set, err := AppendAttendanceSet(nil, recs, AttSize40)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]Attendance, 0, n)
	b.SetBytes(int64(len(set)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		size, err := DecideAttendanceSize(set[4:], n)
		if err != nil || size != AttSize40 {
			b.Fatal(size, err)
		}
		out, err := DecodeAttendance(set[4:], size, dst[:0])
		if err != nil || len(out) != n {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkTCPDecoder cuts a stream of 64 KiB DATA frames, checksums
// included.
func BenchmarkTCPDecoder(b *testing.B) {
	frame := AppendTCP(nil, Packet{Command: CmdData, Data: make([]byte, TCPChunk)})
	b.SetBytes(int64(len(frame)))
	var d TCPDecoder
	for i := 0; i < b.N; i++ {
		d.Feed(frame)
		if _, ok, err := d.Next(); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
