package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/punchbox/punchbox/drivers/zksim"
	"github.com/punchbox/punchbox/internal/eventually"
)

// boxConfig writes a configuration with one ZK terminal at addr and a data
// directory in the test's space.
func boxConfig(t *testing.T, listen, termAddr string) string {
	t.Helper()
	dir := t.TempDir()
	body := fmt.Sprintf(`site: test-site
box: box-01
data_dir: %s
timezone: Europe/Berlin
log: {level: debug}
web: {listen: %q, insecure_http: true}
terminals:
  - {id: gate-a, kind: zk, address: %q, transport: tcp}
`, filepath.Join(dir, "data"), listen, termAddr)
	path := filepath.Join(dir, "punchbox.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// listPunches runs "punches list --json" in-process, as an admin would while
// the daemon runs.
func listPunches(t *testing.T, cfg string, extra ...string) []punchLine {
	t.Helper()
	code, out, errOut := runCmd(t, append([]string{"punches", "list", "--config", cfg, "--json"}, extra...)...)
	if code != 0 {
		t.Fatalf("punches list: exit %d: %s", code, errOut)
	}
	var lines []punchLine
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var l punchLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	return lines
}

// TestServeStoresPunches runs the daemon against a simulated terminal: the
// configuration seeds the terminal, its log lands in the store, a restart
// back-fills what was punched while the daemon was down, and "punches list"
// reads it all while the daemon runs.
func TestServeStoresPunches(t *testing.T) {
	sim := startSim(t, zksim.Config{Serial: "SERVE001"}, 10, 500)
	cfg := boxConfig(t, freePort(t), sim.Addr())

	d := startDaemon(t, nil, "serve", "--config", cfg)
	d.await(t, "READY=1")
	waitPunches := func(n int) []punchLine {
		t.Helper()
		var got []punchLine
		eventually.OK(t, func() string {
			if got = listPunches(t, cfg); len(got) == n {
				return ""
			}
			return fmt.Sprintf("%d punches stored, want %d; daemon log:\n%s", len(got), n, d.stderr)
		})
		return got
	}
	got := waitPunches(500)
	if got[0].Serial != "SERVE001" || got[0].Terminal != "gate-a" || got[0].Zone != "Europe/Berlin" || got[0].Source != "pull" || got[0].Delivered {
		t.Errorf("first punch = %+v", got[0])
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.wait(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, d.stderr)
	}

	// Punches made while the daemon is down are back-filled on restart.
	for i := 0; i < 7; i++ {
		if _, ok := sim.Punch(fmt.Sprint(1001+i), 1, 1); !ok {
			t.Fatal("punch refused")
		}
	}
	d2 := startDaemon(t, nil, "serve", "--config", cfg)
	d2.await(t, "READY=1")
	waitPunches(507)
	if got := listPunches(t, cfg, "--pin", "1003", "--since", "2026-01-01"); len(got) == 0 {
		t.Error("filter by PIN and day found nothing")
	}
	d2.cmd.Process.Signal(syscall.SIGTERM)
	if code := d2.wait(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, d2.stderr)
	}
}

func TestPunchesListErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", []string{"punches"}, `want "punches list"`},
		{"bad since", []string{"punches", "list", "--since", "yesterday"}, "--since"},
		{"no store yet", []string{"punches", "list", "--config", boxConfig(t, "127.0.0.1:1", "127.0.0.1:2")}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCmd(t, tt.args...)
			if code == 0 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want %q", code, errOut, tt.want)
			}
		})
	}
}
