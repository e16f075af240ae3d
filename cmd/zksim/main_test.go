package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/punchbox/punchbox/drivers/zksim"
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
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no dump; stderr %q", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != exitOK {
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
