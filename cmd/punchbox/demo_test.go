package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/store"
)

// TestDemo runs "punchbox demo" as a new user would, and watches its
// progress lines until the 40,000-punch backlog has been read, stored and
// delivered through the embedded broker, with all three terminals online.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo reads 40,000 punches from a firmware-paced terminal")
	}
	var out syncBuffer
	var errOut syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--listen", freePort(t), "--data-dir", t.TempDir(), "--progress", "200ms", "--rate", "20"}, &out, &errOut, noEnv)
	}()
	line := regexp.MustCompile(`captured (\d+)  stored (\d+)  delivered (\d+)  backlog (\d+)  terminals online (\d)/3  broker (connected|not connected)`)
	// On a loaded machine under the race detector the backlog can take
	// minutes: the demo fails only when its progress stops for as long as
	// a hung test may take, not after a fixed time.
	moved := 0
	for stalled := time.Now().Add(eventually.Hung); ; {
		done := false
		for _, m := range line.FindAllStringSubmatch(out.String(), -1) {
			n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
			if sum := n(1) + n(2) + n(3); sum > moved {
				moved, stalled = sum, time.Now().Add(eventually.Hung)
			}
			done = done || n(2) >= 40_000 && n(3) >= 40_000 && n(5) == 3 && m[6] == "connected" && n(1) > 40_000
		}
		if done {
			break
		}
		if time.Now().After(stalled) {
			t.Fatalf("the demo stopped short of storing and delivering the backlog:\n%s\n%s", tail(out.String()), errOut.String())
		}
		eventually.Recv(t, "a progress line", out.lines())
	}
	for _, want := range []string{"panel        http://", "mosquitto_sub -h 127.0.0.1 -p", "canteen", "comm key 4321"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the banner lacks %q", want)
		}
	}
	// The banner's sign-in works: no default password, but a printed one.
	m := regexp.MustCompile(`panel        (\S+)  \(sign in as (\S+), password (\S+)\)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no sign-in in the banner:\n%s", out.String())
	}
	body, _ := json.Marshal(map[string]string{"name": m[2], "password": m[3]})
	resp, err := http.Post(m[1]+"/api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("sign-in with the banner's password: %d", resp.StatusCode)
	}
	cancel()
	if code := eventually.Recv(t, "the demo stops", done); code != 0 {
		t.Fatalf("demo exit %d: %s", code, errOut.String())
	}
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}

// TestDemoRefusesDataDir points the demo at a box's data directory: it is
// refused, and nothing in it is touched.
func TestDemoRefusesDataDir(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, store.FileName)
	if err := os.WriteFile(db, []byte("the production store"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, keep := range []string{"--keep=false", "--keep=true"} {
		code, _, errOut := runCmd(t, "demo", "--data-dir", dir, "--listen", "127.0.0.1:99999", keep) // an address that cannot be bound ends a demo that was not refused
		if code != exitUsage || !strings.Contains(errOut, "not a demo data directory") || !strings.Contains(errOut, dir) {
			t.Errorf("demo %s on a data directory: exit %d, %q; want it refused", keep, code, errOut)
		}
		if b, err := os.ReadFile(db); err != nil || string(b) != "the production store" {
			t.Fatalf("the data directory was touched: %q, %v", b, err)
		}
		if _, err := os.Stat(filepath.Join(dir, demoMarker)); err == nil {
			t.Fatal("the demo marked a directory it did not make")
		}
	}
}

// TestPrepareDemoDir: new and empty directories are used, one an earlier
// demo made is emptied (or kept with --keep), each left with the marker.
func TestPrepareDemoDir(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(dir string)
		keep      bool
		wantLeft  bool // the earlier run's file is still there
		wantError bool
	}{
		{"absent", func(dir string) { os.Remove(dir) }, false, false, false},
		{"empty", func(string) {}, false, false, false},
		{"earlier demo", func(dir string) { os.WriteFile(filepath.Join(dir, demoMarker), nil, 0o600) }, false, false, false},
		{"earlier demo kept", func(dir string) { os.WriteFile(filepath.Join(dir, demoMarker), nil, 0o600) }, true, true, false},
		{"marker is a directory", func(dir string) { os.Mkdir(filepath.Join(dir, demoMarker), 0o700) }, false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "demo")
			os.Mkdir(dir, 0o700)
			tt.setup(dir)
			left := filepath.Join(dir, "punchbox.db")
			if _, err := os.Stat(dir); err == nil {
				os.WriteFile(left, []byte("x"), 0o600)
				if tt.name == "empty" {
					os.Remove(left)
				}
			}
			err := prepareDemoDir(dir, tt.keep)
			if (err != nil) != tt.wantError {
				t.Fatalf("prepareDemoDir = %v, want error %v", err, tt.wantError)
			}
			if _, err := os.Stat(left); (err == nil) != tt.wantLeft {
				t.Errorf("the earlier file left: %v, want %v", err == nil, tt.wantLeft)
			}
			if fi, err := os.Lstat(filepath.Join(dir, demoMarker)); !tt.wantError && (err != nil || !fi.Mode().IsRegular()) {
				t.Errorf("no marker after prepareDemoDir: %v", err)
			}
		})
	}
}
