package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkStartToReady measures the stripped release binary from exec to
// READY=1 (ns/op) and from SIGTERM to exit (stop-ms), with the example
// configuration on loopback. The first start, which generates the panel
// certificate, is reported separately as first-start-ms.
func BenchmarkStartToReady(b *testing.B) {
	bin := releaseBinary(b)
	cfg := benchConfig(b, freePort(b))
	sock := filepath.Join(b.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()

	once := func() (ready, stop time.Duration) {
		cmd := exec.Command(bin, "serve", "--config", cfg)
		cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 4096)
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		for {
			n, err := conn.Read(buf)
			if err != nil {
				cmd.Process.Kill()
				b.Fatalf("no READY: %v\n%s", err, stderr.String())
			}
			if strings.Contains(string(buf[:n]), "READY=1") {
				break
			}
		}
		ready = time.Since(start)
		t0 := time.Now()
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			b.Fatalf("exit: %v\n%s", err, stderr.String())
		}
		return ready, time.Since(t0)
	}

	first, _ := once()
	var stops time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, stop := once()
		stops += stop
	}
	b.ReportMetric(float64(stops.Microseconds())/1000/float64(b.N), "stop-ms")
	b.ReportMetric(float64(first.Microseconds())/1000, "first-start-ms")
}

func benchConfig(b *testing.B, listen string) string {
	dir := b.TempDir()
	body := "site: bench\nbox: box-01\ndata_dir: " + filepath.Join(dir, "data") +
		"\nlog: {level: warn}\nweb: {listen: \"" + listen + "\"}\n"
	path := filepath.Join(dir, "punchbox.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// releaseBinary builds the stripped binary, as make cross does, once per
// benchmark.
func releaseBinary(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "punchbox")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Skipf("cannot build the binary: %v\n%s", err, out)
	}
	return bin
}
