package web

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseDevice(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	good := deviceValue(testKey, "alice", "bm9uY2U", now.Unix())
	tests := []struct {
		name, value, account string
		at                   time.Time
		ok                   bool
	}{
		{"Good", good, "alice", now, true},
		{"AYearLater", good, "alice", now.Add(deviceTTL), true},
		{"Expired", good, "alice", now.Add(deviceTTL + time.Second), false},
		{"FromTheFuture", good, "alice", now.Add(-2 * time.Minute), false},
		{"OtherAccount", good, "bob", now, false},
		{"NoAccount", good, "", now, false},
		{"OtherKey", deviceValue([]byte("another key of 32 bytes, or so.."), "alice", "bm9uY2U", now.Unix()), "alice", now, false},
		{"OtherNonce", strings.Replace(good, "bm9uY2U", "bm9uY2V", 1), "alice", now, false},
		{"Truncated", good[:len(good)-1], "alice", now, false},
		{"TooLong", good + strings.Repeat("A", maxDeviceCookie), "alice", now, false},
		{"Empty", "", "alice", now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nonce, ok := parseDevice(testKey, tt.value, tt.account, tt.at)
			if ok != tt.ok || ok && nonce != "bm9uY2U" {
				t.Errorf("parseDevice = %q, %v; want ok %v", nonce, ok, tt.ok)
			}
		})
	}
}

func FuzzParseDevice(f *testing.F) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	f.Add(deviceValue(testKey, "alice", "bm9uY2U", now.Unix()), "alice")
	f.Add("", "alice")
	f.Add("a.b.c.d", "")
	f.Add("YWxpY2U...", "alice")
	f.Fuzz(func(t *testing.T, value, account string) {
		nonce, ok := parseDevice(testKey, value, account, now)
		if !ok {
			return
		}
		// Only the signer's exact output verifies.
		parts := strings.Split(value, ".")
		issued, err := strconv.ParseInt(parts[2], 10, 64)
		if err != nil || nonce != parts[1] || value != deviceValue(testKey, account, nonce, issued) {
			t.Fatalf("accepted %q for %q", value, account)
		}
	})
}
