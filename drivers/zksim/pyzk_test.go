package zksim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/punchbox/punchbox/protocol/zk"
)

// The independent check: pyzk, an unrelated client, reads the simulator
// and must get exactly what it holds. It runs only when PUNCHBOX_PYZK names
// a pyzk checkout (see docs/testing.md); PUNCHBOX_PYZK_PACING=firmware runs
// it with firmware pacing.

// pyzkOutput is what testdata/pyzk_read.py prints.
type pyzkOutput struct {
	Serial, Platform, Firmware string
	Elapsed                    float64
	ElapsedUsers               float64 `json:"elapsed_users"`
	Sizes                      struct{ Users, Records int }
	Users                      []struct {
		UID       uint16 `json:"uid"`
		UserID    string `json:"user_id"`
		Name      string
		Privilege uint8
		Password  string
		Card      uint32
	}
	Records []struct {
		UID       uint16 `json:"uid"`
		UserID    string `json:"user_id"`
		Timestamp string
		Status    uint8 // the verify type
		Punch     uint8 // the state
	}
}

func TestPyzkInterop(t *testing.T) {
	dir := os.Getenv("PUNCHBOX_PYZK")
	if dir == "" {
		t.Skip("set PUNCHBOX_PYZK to a pyzk checkout to run the independent check (docs/testing.md)")
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	if _, err := os.Stat(filepath.Join(dir, "zk", "base.py")); err != nil {
		t.Fatalf("PUNCHBOX_PYZK=%s is not a pyzk checkout: %v", dir, err)
	}
	pacing := PacingFast
	if os.Getenv("PUNCHBOX_PYZK_PACING") == "firmware" {
		pacing = PacingFirmware
	}
	tests := []struct {
		name                 string
		recordSize, userSize int
		records              int
		udp                  bool
		key                  uint32
	}{
		{"TCP", zk.AttSize40, zk.UserSize72, 100000, false, 0},
		{"TCP/CommKey", zk.AttSize40, zk.UserSize72, 100000, false, 123456},
		{"UDP", zk.AttSize40, zk.UserSize72, 100000, true, 0},
		{"UDP/CommKey", zk.AttSize40, zk.UserSize72, 100000, true, 123456},
		{"Records16/TCP", zk.AttSize16, zk.UserSize28, 100000, false, 0},
		{"Records16/UDP", zk.AttSize16, zk.UserSize28, 100000, true, 0},
		{"Records8/TCP", zk.AttSize8, zk.UserSize28, 100000, false, 0},
		{"Records8/UDP", zk.AttSize8, zk.UserSize28, 100000, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSim(t, Config{CommKey: tt.key, RecordSize: tt.recordSize, UserSize: tt.userSize, Pacing: pacing})
			users := GenerateUsers(20)
			users[3].Password = "1234"
			s.SetUsers(users)
			s.AddRecords(GenerateRecords(users, tt.records, day1, 2024)...)
			_, port, _ := net.SplitHostPort(s.Addr())
			args := []string{filepath.Join("testdata", "pyzk_read.py"), "--pyzk", dir, "--port", port,
				"--password", strconv.FormatUint(uint64(tt.key), 10)}
			if tt.udp {
				args = append(args, "--udp")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
			defer cancel()
			var stdout, stderr bytes.Buffer
			cmd := exec.CommandContext(ctx, python, args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("pyzk: %v\n%s", err, stderr.String())
			}
			var out pyzkOutput
			if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
				t.Fatalf("pyzk output: %v\n%s", err, stderr.String())
			}
			t.Logf("pyzk read %d users in %.2f s and %d records (users again included) in %.2f s",
				len(out.Users), out.ElapsedUsers, len(out.Records), out.Elapsed)
			comparePyzk(t, s, &out)
		})
	}
}

func comparePyzk(t *testing.T, s *Sim, out *pyzkOutput) {
	t.Helper()
	if out.Serial != DefaultSerial || out.Platform != DefaultPlatform || out.Firmware != DefaultFirmware {
		t.Errorf("identity %q %q %q", out.Serial, out.Platform, out.Firmware)
	}
	users, recs := s.Users(), s.Records()
	if out.Sizes.Users != len(users) || out.Sizes.Records != len(recs) {
		t.Errorf("sizes %+v", out.Sizes)
	}
	if len(out.Users) != len(users) {
		t.Fatalf("pyzk read %d users, the simulator holds %d", len(out.Users), len(users))
	}
	for i, u := range users {
		g := out.Users[i]
		if g.UID != u.UID || g.UserID != u.UserID || g.Name != u.Name || g.Privilege != u.Privilege ||
			g.Password != u.Password || g.Card != u.Card {
			t.Errorf("user %d: pyzk %+v, simulator %+v", i, g, u)
		}
	}
	if len(out.Records) != len(recs) {
		t.Fatalf("pyzk read %d records, the simulator holds %d", len(out.Records), len(recs))
	}
	bad := 0
	for i, a := range recs {
		g := out.Records[i]
		ts := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", a.Time.Year, a.Time.Month, a.Time.Day, a.Time.Hour, a.Time.Minute, a.Time.Second)
		if g.UID != a.UID || g.UserID != a.UserID || g.Timestamp != ts || g.Status != a.Verify || g.Punch != a.State {
			if bad++; bad <= 5 {
				t.Errorf("record %d: pyzk %+v, simulator %+v", i, g, a)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d records differ", bad, len(recs))
	}
}
