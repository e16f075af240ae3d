package zksim

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/punchbox/punchbox/protocol/zk"
)

func TestGenerateUsers(t *testing.T) {
	users := GenerateUsers(12)
	if len(users) != 12 {
		t.Fatalf("%d users", len(users))
	}
	for i, u := range users {
		n := i + 1
		if int(u.UID) != n || u.UserID != strconv.Itoa(1000+n) || u.Name != "User "+strconv.Itoa(n) {
			t.Errorf("user %d: %+v", n, u)
		}
		if wantPriv := map[bool]uint8{true: 14, false: 0}[n == 1]; u.Privilege != wantPriv {
			t.Errorf("user %d: privilege %d", n, u.Privilege)
		}
	}
	if len(GenerateUsers(0)) != 0 || len(GenerateUsers(-1)) != 0 {
		t.Error("users for n <= 0")
	}
}

func TestGenerateRecords(t *testing.T) {
	users := GenerateUsers(7)
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	// Across the autumn daylight-saving change, wall times still increase.
	start := time.Date(2024, 11, 3, 0, 30, 0, 0, loc)
	recs := GenerateRecords(users, 5000, start, 42)
	if !slices.Equal(recs, GenerateRecords(users, 5000, start, 42)) {
		t.Fatal("not deterministic")
	}
	if slices.Equal(recs, GenerateRecords(users, 5000, start, 43)) {
		t.Error("the seed changes nothing")
	}
	if recs[0].Time != (zk.Time{Year: 2024, Month: 11, Day: 3, Minute: 30}) {
		t.Errorf("first time %v", recs[0].Time)
	}
	seen := map[uint8]bool{}
	prev := uint32(0)
	for i, a := range recs {
		v, err := zk.EncodeTime(a.Time)
		if err != nil || v <= prev {
			t.Fatalf("record %d: time %v not after the previous one (%v)", i, a.Time, err)
		}
		prev = v
		u := users[a.UID-1]
		if a.UserID != u.UserID || a.State > 5 || !slices.Contains(verifyModes[:], a.Verify) || a.WorkCode != 0 {
			t.Fatalf("record %d: %+v", i, a)
		}
		seen[a.Verify] = true
	}
	if len(seen) != len(verifyModes) {
		t.Errorf("verify types seen: %v", seen)
	}
	if got := GenerateRecords(nil, 2, start, 1); len(got) != 2 || got[0].UserID != "1001" {
		t.Errorf("records without users: %+v", got)
	}
}
