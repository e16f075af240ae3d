package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/punchbox/punchbox/drivers/zksim"
	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/protocol/zk"
)

func TestRun_BadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"UnknownFlag", []string{"-nope"}, "flag provided but not defined: -nope"},
		{"RecordSize", []string{"-record-size", "32"}, "-record-size 32: want 40, 16 or 8"},
		{"UserSize", []string{"-user-size", "40"}, "-user-size 40: want 72 or 28"},
		{"CommKey", []string{"-commkey", "4294967296"}, "over the 32-bit maximum"},
		{"Pacing", []string{"-pacing", "slow"}, `-pacing "slow": want firmware or fast`},
		{"Users", []string{"-users", "70000"}, "-users 70000: want 0 to 65535"},
		{"Records", []string{"-records", "-1"}, "-records -1"},
		{"Rate", []string{"-rate", "-2"}, "-rate -2"},
		{"Timezone", []string{"-timezone", "Mars/Olympus"}, `-timezone "Mars/Olympus"`},
		{"LogLevel", []string{"-log-level", "loud"}, `-log-level "loud"`},
		{"FaultKind", []string{"-fault", "explode=1"}, `unknown fault "explode"`},
		{"FaultCount", []string{"-fault", "drop-after=1,count=0"}, "want count=K"},
		{"FaultDelay", []string{"-fault", "delay=soon"}, "positive duration"},
		{"Argument", []string{"extra"}, `unexpected argument "extra"`},
		{"Several", []string{"-record-size", "1", "-user-size", "2"}, "-user-size 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != exitUsage || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), exitUsage, tt.want)
			}
		})
	}
}

func TestRun_Help(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &stdout, &stderr); code != exitOK {
		t.Errorf("exit %d", code)
	}
	if !strings.Contains(stderr.String(), "-record-size") {
		t.Errorf("usage: %q", stderr.String())
	}
}

func TestParseFault(t *testing.T) {
	tests := []struct {
		in   string
		want zksim.Fault
	}{
		{"drop-after=5", zksim.Fault{Kind: zksim.FaultDrop, After: 5}},
		{"corrupt-after=0,count=-1", zksim.Fault{Kind: zksim.FaultCorrupt, Count: -1}},
		{"delay=50ms", zksim.Fault{Kind: zksim.FaultDelay, Delay: 50 * time.Millisecond, Count: -1}},
		{"delay=1s,count=3", zksim.Fault{Kind: zksim.FaultDelay, Delay: time.Second, Count: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseFault(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestRun_ServesAndDumps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dump.json")
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-users", "4", "-records", "25", "-seed", "3",
			"-pacing", "fast", "-timezone", "Asia/Kolkata", "-dump", path, "-log-level", "warn"}, &stdout, &stderr)
	}()
	eventually.True(t, "the dump written at start", func() bool {
		_, err := os.Stat(path)
		return err == nil
	})
	cancel()
	if code := eventually.Recv(t, "run returns after cancel", done); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "listening on 127.0.0.1:0") || !strings.Contains(stdout.String(), "4 users") {
		t.Errorf("summary %q", stdout.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d dump
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	want := zksim.GenerateRecords(zksim.GenerateUsers(4), 25, recordsStart, 3)
	if len(d.Users) != 4 || len(d.Records) != 25 || d.Records[24].Time != formatTime(want[24].Time) || d.Serial != zksim.DefaultSerial {
		t.Errorf("dump: %d users, %d records, serial %q", len(d.Users), len(d.Records), d.Serial)
	}
}

// syncBuffer is a bytes.Buffer safe to read while run writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRun_Hostile(t *testing.T) {
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-hostile", "liar,no-serial", "-listen", "127.0.0.1:0"}, &stdout, &stderr)
	}()
	var addr string
	eventually.True(t, "the address printed", func() bool {
		_, rest, ok := strings.Cut(stdout.String(), "dial ")
		addr, _, _ = strings.Cut(rest, ")")
		return ok && strings.Contains(rest, ")")
	})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	call := func(cmd zk.Command, data []byte) zk.Packet {
		t.Helper()
		if _, err := conn.Write(zk.AppendTCP(nil, zk.Packet{Command: cmd, Data: data})); err != nil {
			t.Fatal(err)
		}
		var dec zk.TCPDecoder
		buf := make([]byte, 64<<10)
		conn.SetReadDeadline(time.Now().Add(eventually.Hung))
		for {
			if p, ok, err := dec.Next(); err != nil {
				t.Fatal(err)
			} else if ok {
				return p
			}
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			dec.Feed(buf[:n])
		}
	}
	if p := call(zk.CmdConnect, nil); p.Command != zk.CmdAckOK {
		t.Fatalf("connect: %s", p.Command)
	}
	p := call(zk.CmdOptionsRRQ, zk.AppendOptionRequest(nil, "~Platform"))
	if _, v, _ := zk.ParseOption(p.Data); len(v) != 18<<10 || !strings.Contains(v, "\x1b[5m\x07") {
		t.Errorf("the liar's platform is %d bytes", len(v))
	}
	cancel()
	if code := eventually.Recv(t, "run returns after cancel", done); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "1 connections") {
		t.Errorf("stdout %q", stdout.String())
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-hostile", "polite"}, &out, &errOut); code != exitUsage || !strings.Contains(errOut.String(), "want all or some of liar, bad-log") {
		t.Errorf("bad -hostile: exit %d, %q", code, errOut.String())
	}
}
