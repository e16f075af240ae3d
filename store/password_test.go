package store_test

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/punchbox/punchbox/store"
	"golang.org/x/crypto/argon2"
)

var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=32768,t=2,p=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashPassword(t *testing.T) {
	a, err := store.HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !phcRE.MatchString(a) || !phcRE.MatchString(b) {
		t.Fatalf("hashes %q, %q do not match %v", a, b, phcRE)
	}
	if a == b {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	tests := []struct {
		name string
		pw   string
		ok   bool
	}{
		{"Right", "correct horse battery staple", true},
		{"Wrong", "correct horse battery stapler", false},
		{"Case", "Correct horse battery staple", false},
		{"Empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, phc := range []string{a, b} {
				if ok, err := store.CheckPassword(phc, tt.pw); ok != tt.ok || err != nil {
					t.Fatalf("check %q = %v, %v; want %v", tt.pw, ok, err, tt.ok)
				}
			}
		})
	}
}

// TestCheckPasswordOtherParameters: hashes made with other parameters (older
// or newer punchboxes) still check.
func TestCheckPasswordOtherParameters(t *testing.T) {
	salt := []byte("0123456789abcdef0123")
	enc := base64.RawStdEncoding.EncodeToString
	for _, p := range []struct{ m, t, p, keyLen uint32 }{{8192, 1, 1, 32}, {65536, 1, 4, 32}, {16384, 2, 2, 16}, {16384, 2, 2, 64}} {
		t.Run(fmt.Sprintf("m=%d,t=%d,p=%d,key=%d", p.m, p.t, p.p, p.keyLen), func(t *testing.T) {
			key := argon2.IDKey([]byte("s3cret-passphrase"), salt, p.t, p.m, uint8(p.p), p.keyLen)
			phc := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", p.m, p.t, p.p, enc(salt), enc(key))
			if ok, err := store.CheckPassword(phc, "s3cret-passphrase"); !ok || err != nil {
				t.Fatalf("right password: %v, %v", ok, err)
			}
			if ok, err := store.CheckPassword(phc, "s3cret-passphrasE"); ok || err != nil {
				t.Fatalf("wrong password: %v, %v", ok, err)
			}
		})
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	good, err := store.HashPassword("a good long password")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Split(good, "$")
	salt, key := f[4], f[5]
	tests := []struct{ name, phc string }{
		{"Empty", ""},
		{"Bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"Argon2i", "$argon2i$v=19$m=32768,t=2,p=2$" + salt + "$" + key},
		{"NoVersion", "$argon2id$m=32768,t=2,p=2$" + salt + "$" + key},
		{"OldVersion", "$argon2id$v=16$m=32768,t=2,p=2$" + salt + "$" + key},
		{"ParamsOutOfOrder", "$argon2id$v=19$t=2,m=32768,p=2$" + salt + "$" + key},
		{"ParamMissing", "$argon2id$v=19$m=32768,t=2$" + salt + "$" + key},
		{"ParamNotNumber", "$argon2id$v=19$m=lots,t=2,p=2$" + salt + "$" + key},
		{"ParamNegative", "$argon2id$v=19$m=32768,t=-2,p=2$" + salt + "$" + key},
		{"ZeroTime", "$argon2id$v=19$m=32768,t=0,p=2$" + salt + "$" + key},
		{"ZeroThreads", "$argon2id$v=19$m=32768,t=2,p=0$" + salt + "$" + key},
		{"TooManyThreads", "$argon2id$v=19$m=32768,t=2,p=256$" + salt + "$" + key},
		{"TooMuchMemory", "$argon2id$v=19$m=4194304,t=2,p=2$" + salt + "$" + key},
		{"TooLittleMemory", "$argon2id$v=19$m=8,t=2,p=2$" + salt + "$" + key},
		{"TooManyPasses", "$argon2id$v=19$m=32768,t=1000,p=2$" + salt + "$" + key},
		{"ShortSalt", "$argon2id$v=19$m=32768,t=2,p=2$YWJj$" + key},
		{"SaltNotBase64", "$argon2id$v=19$m=32768,t=2,p=2$!!!!!!!!!!!!!!!!!!!!!!$" + key},
		{"PaddedSalt", "$argon2id$v=19$m=32768,t=2,p=2$" + salt + "==$" + key},
		{"ShortKey", "$argon2id$v=19$m=32768,t=2,p=2$" + salt + "$YWJjZA"},
		{"NoKey", "$argon2id$v=19$m=32768,t=2,p=2$" + salt},
		{"Trailing", good + "$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ok, err := store.CheckPassword(tt.phc, "a good long password"); ok || err == nil {
				t.Fatalf("check = %v, %v; want an error", ok, err)
			}
		})
	}
}

// BenchmarkHashPassword measures one hash with the parameters of new
// passwords: what a login costs.
func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := store.HashPassword("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
