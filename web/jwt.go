package web

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The session cookie is a JSON Web Token (RFC 7519) signed with HMAC-SHA256
// under the box's secret. It carries the server-side session's token, so a
// valid signature alone is not enough: the session must also still exist in
// the store, which is what makes logout final.
//
// Only the one header this package writes is accepted, so "alg": "none" and
// algorithm confusion are impossible by construction.

// jwtHeader is the only header issued and accepted, pre-encoded.
var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// jwtIssuer names punchbox as the issuer.
const jwtIssuer = "punchbox"

// maxJWTLen bounds a token before any decoding.
const maxJWTLen = 1024

// errBadToken is any token that does not verify; the reason stays inside.
var errBadToken = errors.New("invalid session token")

// claims are what the session cookie carries.
type claims struct {
	Issuer  string `json:"iss"`
	Subject string `json:"sub"` // the user's name, for the log
	Session string `json:"sid"` // the server-side session's token
	Issued  int64  `json:"iat"`
	Expires int64  `json:"exp"`
}

// signJWT returns the token for c.
func signJWT(secret []byte, c claims) (string, error) {
	body, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	signing := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(body)
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac(secret, signing)), nil
}

// parseJWT verifies tok's signature, then its claims, at now.
func parseJWT(secret []byte, tok string, now time.Time) (claims, error) {
	var c claims
	if len(tok) > maxJWTLen {
		return c, fmt.Errorf("%w: too long", errBadToken)
	}
	header, rest, ok := strings.Cut(tok, ".")
	if !ok || header != jwtHeader {
		return c, fmt.Errorf("%w: header", errBadToken)
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return c, fmt.Errorf("%w: want three parts", errBadToken)
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(secret, header+"."+payload)) {
		return c, fmt.Errorf("%w: signature", errBadToken)
	}
	body, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return c, fmt.Errorf("%w: payload encoding", errBadToken)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return claims{}, fmt.Errorf("%w: payload: %v", errBadToken, err)
	}
	switch {
	case c.Issuer != jwtIssuer:
		return claims{}, fmt.Errorf("%w: issuer %q", errBadToken, c.Issuer)
	case c.Session == "":
		return claims{}, fmt.Errorf("%w: no session", errBadToken)
	case now.Unix() >= c.Expires:
		return claims{}, fmt.Errorf("%w: expired", errBadToken)
	case c.Issued > now.Add(time.Minute).Unix():
		return claims{}, fmt.Errorf("%w: issued in the future", errBadToken)
	}
	return c, nil
}

// mac returns HMAC-SHA256 of msg under secret.
func mac(secret []byte, msg string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(msg))
	return h.Sum(nil)
}
