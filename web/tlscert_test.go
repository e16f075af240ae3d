package web

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLoadOrCreateCert(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	names := Names{DNS: []string{"box-01", "box-01.local", "localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1), net.ParseIP("192.168.1.10")}}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

	first, created, err := LoadOrCreateCert(dir, names, now)
	if err != nil || !created {
		t.Fatalf("first start: created=%v err=%v", created, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key.pem mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if err := first.Leaf.VerifyHostname("192.168.1.10"); err != nil {
		t.Errorf("certificate does not cover the LAN address: %v", err)
	}
	if err := first.Leaf.VerifyHostname("box-01.local"); err != nil {
		t.Errorf("certificate does not cover the mDNS name: %v", err)
	}

	tests := []struct {
		name        string
		names       Names
		now         time.Time
		wantCreated bool
	}{
		{"restart keeps it", names, now.Add(24 * time.Hour), false},
		{"subset of names keeps it", Names{DNS: []string{"localhost"}}, now, false},
		{"new address replaces it", Names{IPs: []net.IP{net.ParseIP("10.0.0.7")}}, now, true},
		{"near expiry replaces it", names, now.Add(CertValidity - CertRenewBefore + time.Hour), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, created, err := LoadOrCreateCert(dir, tt.names, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			if created != tt.wantCreated {
				t.Errorf("created = %v, want %v", created, tt.wantCreated)
			}
			if !created && Fingerprint(c) != Fingerprint(first) {
				t.Error("kept certificate differs from the first one")
			}
		})
	}
}

func TestFingerprintForm(t *testing.T) {
	c, _, err := LoadOrCreateCert(t.TempDir(), Names{DNS: []string{"localhost"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if fp := Fingerprint(c); len(fp) != 32*3-1 || fp[2] != ':' {
		t.Fatalf("fingerprint %q: want 32 colon-separated hex pairs", fp)
	}
}
