package store

import "testing"

// TestDummyPHC: the hash Authenticate checks for unknown users parses and
// costs what a real one does, or unknown names would answer faster.
func TestDummyPHC(t *testing.T) {
	p, err := parsePHC(dummyPHC)
	if err != nil || !p.current() {
		t.Fatalf("dummy %q: %+v, %v; want the current parameters", dummyPHC, p, err)
	}
	if ok, err := CheckPassword(dummyPHC, ""); ok || err != nil {
		t.Fatalf("dummy matched the empty password: %v, %v", ok, err)
	}
	phc, err := HashPassword("x")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := parsePHC(phc); err != nil || !p.current() {
		t.Fatalf("new hash %q: %+v, %v; want the current parameters", phc, p, err)
	}
}
