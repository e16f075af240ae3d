package zk

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vector loads testdata/vectors/NAME.hex: hex digits, with whitespace and
// #-comment lines ignored.
func vector(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "vectors", name+".hex"))
	if err != nil {
		tb.Fatal(err)
	}
	return parseHexFile(tb, b)
}

func parseHexFile(tb testing.TB, b []byte) []byte {
	var sb strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		sb.WriteString(strings.Join(strings.Fields(line), ""))
	}
	out, err := hex.DecodeString(sb.String())
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// allVectors returns every vector, for fuzz seeds.
func allVectors(tb testing.TB) [][]byte {
	files, _ := filepath.Glob(filepath.Join("testdata", "vectors", "*.hex"))
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, parseHexFile(tb, b))
	}
	return out
}

// tcpPacket decodes a vector holding exactly one TCP frame.
func tcpPacket(t *testing.T, name string) Packet {
	t.Helper()
	var d TCPDecoder
	d.Feed(vector(t, name))
	p, ok, err := d.Next()
	if err != nil || !ok {
		t.Fatalf("%s: ok=%v err=%v", name, ok, err)
	}
	if d.Buffered() != 0 {
		t.Fatalf("%s: %d bytes left after the frame", name, d.Buffered())
	}
	return p
}
