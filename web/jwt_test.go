package web

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func TestJWT(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	good := claims{Issuer: jwtIssuer, Subject: "admin", Session: "tok", Issued: now.Unix(), Expires: now.Add(time.Hour).Unix()}
	tok, err := signJWT(testKey, good)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseJWT(testKey, tok, now)
	if err != nil || got != good {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	header, rest, _ := strings.Cut(tok, ".")
	payload, sig, _ := strings.Cut(rest, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	forged := func(c string) string { return header + "." + b64([]byte(c)) + "." + sig }
	other, _ := signJWT([]byte("another key, also thirty-two b.."), good)
	expired, _ := signJWT(testKey, claims{Issuer: jwtIssuer, Session: "tok", Issued: now.Add(-2 * time.Hour).Unix(), Expires: now.Unix()})
	future, _ := signJWT(testKey, claims{Issuer: jwtIssuer, Session: "tok", Issued: now.Add(time.Hour).Unix(), Expires: now.Add(2 * time.Hour).Unix()})
	noSession, _ := signJWT(testKey, claims{Issuer: jwtIssuer, Issued: now.Unix(), Expires: now.Add(time.Hour).Unix()})
	issuer, _ := signJWT(testKey, claims{Issuer: "someone", Session: "tok", Issued: now.Unix(), Expires: now.Add(time.Hour).Unix()})
	for name, bad := range map[string]string{
		"empty":          "",
		"two parts":      header + "." + payload,
		"alg none":       b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + payload + ".",
		"alg HS512":      b64([]byte(`{"alg":"HS512","typ":"JWT"}`)) + "." + payload + "." + sig,
		"payload edited": forged(`{"iss":"punchbox","sub":"root","sid":"tok","iat":1,"exp":9999999999}`),
		"other key":      other,
		"expired":        expired,
		"issued later":   future,
		"no session":     noSession,
		"other issuer":   issuer,
		"bad signature":  header + "." + payload + "." + sig[:len(sig)-2] + "AA",
		"sig not base64": header + "." + payload + ".!!!",
		"too long":       tok + strings.Repeat("A", maxJWTLen),
	} {
		if _, err := parseJWT(testKey, bad, now); !errors.Is(err, errBadToken) {
			t.Errorf("%s: accepted (%v)", name, err)
		}
	}
}

// FuzzParseJWT: any cookie value is either refused or exactly what this
// key would sign for its claims.
func FuzzParseJWT(f *testing.F) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	tok, _ := signJWT(testKey, claims{Issuer: jwtIssuer, Subject: "a", Session: "s", Issued: now.Unix(), Expires: now.Add(time.Hour).Unix()})
	f.Add(tok)
	f.Add("")
	f.Add("a.b.c")
	f.Add(jwtHeader + ".e30.")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseJWT(testKey, s, now)
		if err != nil {
			if !errors.Is(err, errBadToken) {
				t.Fatalf("error %v is not errBadToken", err)
			}
			return
		}
		if c.Session == "" || c.Issuer != jwtIssuer || c.Expires <= now.Unix() {
			t.Fatalf("accepted claims %+v", c)
		}
		// The signature covers the exact bytes: only the signer's output
		// verifies, so re-signing what was accepted verifies too.
		again, err := signJWT(testKey, c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseJWT(testKey, again, now); err != nil {
			t.Fatalf("re-signed claims refused: %v", err)
		}
	})
}

func TestSetupCodeForm(t *testing.T) {
	code, err := newSetupCode()
	if err != nil {
		t.Fatal(err)
	}
	if len(code) != setupCodeLen || strings.Trim(code, setupAlphabet) != "" {
		t.Fatalf("code %q", code)
	}
	f := formatSetupCode(code)
	if len(f) != 14 || f[4] != '-' || f[9] != '-' {
		t.Errorf("formatted %q", f)
	}
	for typed, want := range map[string]string{
		"7kqm-3xwd-9pzb":   "7KQM3XWD9PZB",
		" 7KQM 3XWD 9PZB ": "7KQM3XWD9PZB",
		"OIL0":             "0110",
		"7KQM-3XWD-9PZ✓":   "7KQM3XWD9PZ?",
	} {
		if got := normalizeSetupCode(typed); got != want {
			t.Errorf("normalize(%q) = %q, want %q", typed, got, want)
		}
	}
}
