package zkpull

import (
	"context"
	"testing"
	"time"

	"github.com/punchbox/punchbox/drivers/zksim"
	"github.com/punchbox/punchbox/protocol/zk"
)

// BenchmarkDownload100k times a full download of 100,000 40-byte records
// from the simulator in fast mode over loopback TCP: connect, disable,
// read, parse, enable, close (goal: at most 1 s per download).
func BenchmarkDownload100k(b *testing.B) {
	benchDownload(b, "tcp", 100_000)
}

// BenchmarkDownload100kUDP is the same over UDP (16 KiB chunks of 1 KiB
// datagrams).
func BenchmarkDownload100kUDP(b *testing.B) {
	benchDownload(b, "udp", 100_000)
}

// BenchmarkDownload100kFirmwarePaced is the TCP download from a simulator
// that waits between packets as real terminals do (about 20 ms per 64 KiB).
func BenchmarkDownload100kFirmwarePaced(b *testing.B) {
	benchDownloadPaced(b, "tcp", 100_000, zksim.PacingFirmware)
}

func benchDownload(b *testing.B, transport string, n int) {
	benchDownloadPaced(b, transport, n, zksim.PacingFast)
}

func benchDownloadPaced(b *testing.B, transport string, n int, pacing zksim.Pacing) {
	sim := startSim(b, zksim.Config{Serial: "BENCH001", Pacing: pacing}, 200, n)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := Dial(ctx, transport, sim.Addr(), 5*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Connect(ctx, 0); err != nil {
			b.Fatal(err)
		}
		if err := c.Disable(ctx, time.Minute); err != nil {
			b.Fatal(err)
		}
		recs, size, err := c.ReadAttendance(ctx, n)
		if err != nil || len(recs) != n || size != zk.AttSize40 {
			b.Fatalf("read %d records of %d bytes: %v", len(recs), size, err)
		}
		if err := c.Enable(ctx); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
