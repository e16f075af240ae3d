package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers/zksim"
)

func startSim(t *testing.T, cfg zksim.Config, users, records int) *zksim.Sim {
	t.Helper()
	sim := zksim.New(cfg)
	u := zksim.GenerateUsers(users)
	sim.SetUsers(u)
	sim.AddRecords(zksim.GenerateRecords(u, records, time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC), 1)...)
	if err := sim.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return sim
}

func TestZKLogsJSON(t *testing.T) {
	for _, size := range []int{40, 16, 8} {
		for _, tr := range []string{"--tcp", "--udp"} {
			t.Run(fmt.Sprintf("%d-byte %s", size, tr[2:]), func(t *testing.T) {
				sim := startSim(t, zksim.Config{Serial: "CLI00001", RecordSize: size, CommKey: 77}, 12, 3000)
				code, out, errOut := runCmd(t, "zk", "logs", sim.Addr(), "--commkey", "77", "--json", tr)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				recs := sim.Records()
				pins := map[uint16]string{}
				for _, u := range sim.Users() {
					pins[u.UID] = u.UserID
				}
				sc := bufio.NewScanner(strings.NewReader(out))
				i := 0
				for sc.Scan() {
					var l logLine
					if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
						t.Fatalf("line %d %q: %v", i, sc.Text(), err)
					}
					r := recs[i]
					pin := r.UserID
					if pin == "" {
						pin = pins[r.UID]
					}
					local := punchbox.LocalTime(r.Time)
					want := logLine{ID: punchbox.PunchID("CLI00001", pin, local, punchbox.PunchState(r.State)), PIN: pin, Time: local.String(), State: int(r.State), Verify: int(r.Verify)}
					if l != want {
						t.Fatalf("line %d = %+v, want %+v", i, l, want)
					}
					i++
				}
				if i != len(recs) {
					t.Fatalf("%d lines for %d records", i, len(recs))
				}
				if sim.Disabled() {
					t.Error("terminal left disabled")
				}
			})
		}
	}
}

func TestZKInfoUsersTime(t *testing.T) {
	sim := startSim(t, zksim.Config{Serial: "CLI00002", ClockOffset: -time.Hour}, 5, 42)
	code, out, errOut := runCmd(t, "zk", "info", sim.Addr())
	if code != 0 || !strings.Contains(out, "CLI00002") || !strings.Contains(out, "42 of 100000") || !strings.Contains(out, "behind this machine") {
		t.Errorf("info: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCmd(t, "zk", "users", "--json", sim.Addr())
	if n := strings.Count(out, `"pin":`); code != 0 || n != 5 || !strings.Contains(out, `"privilege":"admin"`) {
		t.Errorf("users: exit %d, %d users\n%s", code, n, out)
	}
	code, out, _ = runCmd(t, "zk", "time", sim.Addr(), "--set", "--timezone", "UTC", "--json")
	var tm struct {
		Offset float64 `json:"offset_seconds"`
		Set    bool    `json:"set"`
	}
	if err := json.Unmarshal([]byte(out), &tm); code != 0 || err != nil || !tm.Set || tm.Offset < -1 || tm.Offset > 1 {
		t.Errorf("time --set: exit %d, %v\n%s", code, err, out)
	}
	if d := time.Until(sim.Clock()); d < -2*time.Second || d > 2*time.Second {
		t.Errorf("terminal clock off by %v after --set", d)
	}
}

func TestZKErrors(t *testing.T) {
	sim := startSim(t, zksim.Config{CommKey: 5}, 2, 0)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"wrong comm key", []string{"zk", "info", sim.Addr(), "--commkey", "6", "--tcp"}, exitFailure, "wrong comm key"},
		{"no comm key", []string{"zk", "info", sim.Addr(), "--tcp"}, exitFailure, "requires a comm key"},
		{"no address", []string{"zk", "info"}, exitUsage, "want a subcommand and an address"},
		{"unknown subcommand", []string{"zk", "reboot", sim.Addr()}, exitUsage, `unknown zk subcommand "reboot"`},
		{"--set without time", []string{"zk", "logs", sim.Addr(), "--set"}, exitUsage, "--set goes with time"},
		{"nobody there", []string{"zk", "info", "127.0.0.1:1", "--tcp", "--timeout", "200ms"}, exitFailure, "connect 127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCmd(t, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tt.code, tt.want)
			}
		})
	}
}
