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

// deviceValue returns the device cookie's value for account's device
// nonce, issued at issued (unix seconds), signed with key.
func deviceValue(key []byte, account, nonce string, issued int64) string {
	msg := base64.RawURLEncoding.EncodeToString([]byte(account)) + "." + nonce + "." + strconv.FormatInt(issued, 10)
	return msg + "." + base64.RawURLEncoding.EncodeToString(mac(key, msg))
}

// parseDevice returns the nonce of a device cookie's value when it verifies
// under key, names account and is still valid at now.
func parseDevice(key []byte, value, account string, now time.Time) (string, bool) {
	if account == "" || len(value) > maxDeviceCookie {
		return "", false
	}
	parts := strings.Split(value, ".")
	if len(parts) != 4 {
		return "", false
	}
	name, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || string(name) != account {
		return "", false
	}
	issued, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return "", false
	}
	if age := now.Sub(time.Unix(issued, 0)); age < -time.Minute || age > deviceTTL {
		return "", false
	}
	if !hmac.Equal([]byte(value), []byte(deviceValue(key, account, parts[1], issued))) {
		return "", false
	}
	return parts[1], true
}

// setDevice marks the browser as a known device of u, with a new nonce.
func (p *Panel) setDevice(c *gin.Context, u store.User) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		p.log.Warn("known-device cookie: no randomness", "err", err)
		return
	}
	v := deviceValue(p.deviceKey, accountKey(u.Name), base64.RawURLEncoding.EncodeToString(b), p.d.Now().Unix())
	http.SetCookie(c.Writer, &http.Cookie{
		Name: p.deviceCookieName(), Value: v, Path: "/", MaxAge: int(deviceTTL.Seconds()),
		HttpOnly: true, Secure: !p.d.Insecure, SameSite: http.SameSiteStrictMode,
	})
}

// knownDevice returns the limiter key of the request's device when it
// carries a valid device cookie for account, and "" otherwise.
func (p *Panel) knownDevice(c *gin.Context, account string) string {
	ck, err := c.Request.Cookie(p.deviceCookieName())
	if err != nil {
		return ""
	}
	nonce, ok := parseDevice(p.deviceKey, ck.Value, account, p.d.Now())
	if !ok {
		return ""
	}
	return "dev:" + nonce
}
