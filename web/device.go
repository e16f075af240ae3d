package web

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox/store"
)

// A known-device cookie (OWASP's "device cookies") marks a browser in which
// a user signed in before. Sign-ins for that user from that browser are
// counted against the device alone, not against the address or the
// account: strangers' failures, at the same address or at the account,
// never lock out someone who uses the browser they used before. A device
// that fails is locked out like an account, by itself. The cookie is
// signed with the panel's secret and names the user, a random nonce (the
// device's limiter key) and when it was issued; a new one replaces it at
// every sign-in.

// deviceTTL is how long a device stays known after its last sign-in.
const deviceTTL = 365 * 24 * time.Hour

// maxDeviceCookie bounds a device cookie before any decoding.
const maxDeviceCookie = 256

func (p *Panel) deviceCookieName() string {
	if p.d.Insecure {
		return "punchbox_device"
	}
	return "__Host-punchbox_device"
}

// deviceValue returns the cookie value for account's device nonce, issued
// at issued.
func (p *Panel) deviceValue(account, nonce string, issued int64) string {
	msg := base64.RawURLEncoding.EncodeToString([]byte(account)) + "." + nonce + "." + strconv.FormatInt(issued, 10)
	return msg + "." + base64.RawURLEncoding.EncodeToString(mac(p.deviceKey, msg))
}

// setDevice marks the browser as a known device of u, with a new nonce.
func (p *Panel) setDevice(c *gin.Context, u store.User) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		p.log.Warn("known-device cookie: no randomness", "err", err)
		return
	}
	v := p.deviceValue(accountKey(u.Name), base64.RawURLEncoding.EncodeToString(b), p.d.Now().Unix())
	http.SetCookie(c.Writer, &http.Cookie{
		Name: p.deviceCookieName(), Value: v, Path: "/", MaxAge: int(deviceTTL.Seconds()),
		HttpOnly: true, Secure: !p.d.Insecure, SameSite: http.SameSiteStrictMode,
	})
}

// knownDevice returns the limiter key of the request's device when it
// carries a valid device cookie for account, and "" otherwise.
func (p *Panel) knownDevice(c *gin.Context, account string) string {
	ck, err := c.Request.Cookie(p.deviceCookieName())
	if err != nil || account == "" || len(ck.Value) > maxDeviceCookie {
		return ""
	}
	parts := strings.Split(ck.Value, ".")
	if len(parts) != 4 {
		return ""
	}
	name, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || string(name) != account {
		return ""
	}
	issued, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return ""
	}
	age := p.d.Now().Sub(time.Unix(issued, 0))
	if age < -time.Minute || age > deviceTTL {
		return ""
	}
	want := p.deviceValue(account, parts[1], issued)
	if !hmac.Equal([]byte(ck.Value), []byte(want)) {
		return ""
	}
	return "dev:" + parts[1]
}
