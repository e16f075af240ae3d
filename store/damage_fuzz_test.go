package store

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzCheckHeader feeds the header check arbitrary files: it never panics,
// never fails on a readable file, and calls a file damaged exactly when its
// first 100 bytes could not start an SQLite database of its length.
func FuzzCheckHeader(f *testing.F) {
	good := make([]byte, 4096)
	copy(good, sqliteMagic)
	binary.BigEndian.PutUint16(good[16:], 4096)
	f.Add(good)
	f.Add(good[:100])
	f.Add(good[:99])
	f.Add([]byte{})
	f.Add(append(append([]byte{}, good[:16]...), 0, 1)) // page size 65536 in a short file
	f.Add(bytes.Repeat([]byte("not a database "), 300))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "db")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		d, err := checkHeader(path, time.Unix(0, 0))
		if err != nil {
			t.Fatalf("checkHeader: %v", err)
		}
		want := len(data) > 0
		if len(data) >= 100 && bytes.Equal(data[:16], sqliteMagic) {
			ps := int(binary.BigEndian.Uint16(data[16:18]))
			if ps == 1 {
				ps = 65536
			}
			want = ps < 512 || ps&(ps-1) != 0 || len(data) < ps
		}
		if (d != nil) != want {
			t.Fatalf("damage %v for %d bytes, want damaged: %v", d, len(data), want)
		}
		if d != nil && (d.By != FoundByHeader || !utf8.ValidString(d.Detail) || len(d.Detail) > 200) {
			t.Fatalf("damage %+v: want the header check, a short valid detail", d)
		}
	})
}

// FuzzReadDamageFile feeds the record of damage arbitrary bytes: whatever
// it holds, it means damage, and what is read of it is bounded and valid
// UTF-8.
func FuzzReadDamageFile(f *testing.F) {
	f.Add([]byte(`{"found":"2026-03-02T08:00:00Z","by":"the integrity check","detail":"Tree 2 page 130: btreeInitPage() returns error code 11"}`))
	f.Add([]byte(`{"detail":""}`))
	f.Add([]byte("\xff\xfe"))
	f.Add(bytes.Repeat([]byte(`{"detail":"`), 3000))
	f.Fuzz(func(t *testing.T, data []byte) {
		db := filepath.Join(t.TempDir(), FileName)
		if err := os.WriteFile(db+damageSuffix, data, 0o600); err != nil {
			t.Fatal(err)
		}
		d, err := readDamageFile(db)
		if err != nil {
			t.Fatalf("readDamageFile: %v", err)
		}
		if d == nil || d.Detail == "" || d.Path != db {
			t.Fatalf("damage %+v: a record of damage must mean damage", d)
		}
		if len(d.Detail) > maxDetail || len(d.By) > 64 || !utf8.ValidString(d.Detail) || !utf8.ValidString(d.By) {
			t.Fatalf("damage %+v: not bounded", d)
		}
	})
}
