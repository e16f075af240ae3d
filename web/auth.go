package web

import (
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox/store"
)

// principal is who a request comes from: a signed-in user or an API token.
type principal struct {
	user    store.User
	session store.Session // for a user: the session in use
	token   store.Token   // for an API token
	isToken bool
}

// name is how the audit log names the principal.
func (pr *principal) name() string {
	if pr.isToken {
		return "token:" + pr.token.Name
	}
	return pr.user.Name
}

// role is what the principal may do now: for a token, at most its
// owner's current role.
func (pr *principal) role() store.Role {
	if pr.isToken {
		return pr.token.Effective()
	}
	return pr.user.Role
}

const principalKey = "punchbox.principal"

// who returns the request's principal; nil on public routes without one.
func who(c *gin.Context) *principal {
	if v, ok := c.Get(principalKey); ok {
		return v.(*principal)
	}
	return nil
}

// cookieName is the session cookie's name. Over HTTPS it has the __Host-
// prefix, which browsers accept only when Secure, host-only and for path /.
func (p *Panel) cookieName() string {
	if p.d.Insecure {
		return "punchbox_session"
	}
	return "__Host-punchbox_session"
}

// authenticate finds the principal of a request: an API token in the
// Authorization header, else the session cookie. It returns nil, nil when
// the request carries neither.
func (p *Panel) authenticate(c *gin.Context) (*principal, error) {
	ctx := c.Request.Context()
	if h := c.Request.Header.Get("Authorization"); h != "" {
		scheme, secret, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
			return nil, fmt.Errorf("%w: want Authorization: Bearer <token>", ErrUnauthenticated)
		}
		t, err := p.d.Store.TokenBySecret(ctx, strings.TrimSpace(secret))
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%w: unknown or revoked API token", ErrUnauthenticated)
		}
		if err != nil {
			return nil, err
		}
		return &principal{token: t, isToken: true}, nil
	}
	ck, err := c.Request.Cookie(p.cookieName())
	if err != nil {
		return nil, nil
	}
	cl, err := parseJWT(p.sessionKey, ck.Value, p.d.Now())
	if err != nil {
		p.log.Debug("session cookie refused", "err", err, "client", c.ClientIP())
		return nil, fmt.Errorf("%w: the session has ended", ErrUnauthenticated)
	}
	s, u, err := p.d.Store.SessionByToken(ctx, cl.Session)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: the session has ended", ErrUnauthenticated)
	}
	if err != nil {
		return nil, err
	}
	return &principal{user: u, session: s}, nil
}

// authorize enforces the route's access: who may call it at all, that
// changes come from admins, and that changes made with the session cookie
// carry the session's CSRF token.
func (p *Panel) authorize(r route) gin.HandlerFunc {
	return func(c *gin.Context) {
		if r.access == public {
			// A public route may still want to know who is signed in.
			if pr, err := p.authenticate(c); err == nil && pr != nil {
				c.Set(principalKey, pr)
			}
			return
		}
		pr, err := p.authenticate(c)
		if err == nil && pr == nil {
			err = ErrUnauthenticated
		}
		if err != nil {
			if r.kind == page {
				p.toLogin(c)
				return
			}
			p.fail(c, err)
			return
		}
		c.Set(principalKey, pr)
		changes := !safeMethod(c.Request.Method)
		if changes && !pr.isToken && !p.validCSRF(c, pr) {
			p.fail(c, ErrCSRF)
			return
		}
		if pr.role() != store.RoleAdmin && (r.access == admin || (changes && r.access != self)) {
			if r.kind == page {
				p.errorPage(c, http.StatusForbidden, ErrForbidden)
				return
			}
			p.fail(c, fmt.Errorf("%w: it needs the admin role", ErrForbidden))
		}
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// toLogin redirects a page request without a session to the login page, or
// to the setup page while the box has no admin.
func (p *Panel) toLogin(c *gin.Context) {
	target := "/login"
	if admins, _, err := p.d.Store.CountUsers(c.Request.Context()); err == nil && admins == 0 {
		target = "/setup"
	}
	if next := c.Request.URL.RequestURI(); next != "/" && target == "/login" {
		target += "?next=" + url.QueryEscape(next)
	}
	p.clearCookie(c)
	c.Redirect(http.StatusSeeOther, target)
	c.Abort()
}

// csrfHeader carries the CSRF token on every state-changing request made
// with the session cookie; forms may send it as csrfField instead.
const (
	csrfHeader = "X-CSRF-Token"
	csrfField  = "_csrf"
)

// csrfToken is the CSRF token of a session: an HMAC of the session's id,
// so it needs no storage and dies with the session.
func (p *Panel) csrfToken(s store.Session) string {
	return base64.RawURLEncoding.EncodeToString(mac(p.csrfKey, s.ID))
}

func (p *Panel) validCSRF(c *gin.Context, pr *principal) bool {
	got := c.Request.Header.Get(csrfHeader)
	if got == "" {
		ct := c.ContentType()
		if ct == "application/x-www-form-urlencoded" || ct == "multipart/form-data" {
			got = c.Request.FormValue(csrfField)
		}
	}
	want := p.csrfToken(pr.session)
	return got != "" && hmac.Equal([]byte(got), []byte(want))
}

// startSession signs the user in: a server-side session and the cookie
// that carries it.
func (p *Panel) startSession(c *gin.Context, u store.User) (store.Session, error) {
	token, s, err := p.d.Store.CreateSession(c.Request.Context(), u.ID, sessionTTL, c.ClientIP(), c.Request.UserAgent())
	if err != nil {
		return s, err
	}
	now := p.d.Now()
	jwt, err := signJWT(p.sessionKey, claims{Issuer: jwtIssuer, Subject: u.Name, Session: token, Issued: now.Unix(), Expires: s.Expires.Unix()})
	if err != nil {
		return s, err
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: p.cookieName(), Value: jwt, Path: "/", MaxAge: int(time.Until(s.Expires).Seconds()),
		HttpOnly: true, Secure: !p.d.Insecure, SameSite: http.SameSiteStrictMode,
	})
	return s, nil
}

// clearCookie tells the browser to forget the session cookie.
func (p *Panel) clearCookie(c *gin.Context) {
	if _, err := c.Request.Cookie(p.cookieName()); err != nil {
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: p.cookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: !p.d.Insecure, SameSite: http.SameSiteStrictMode,
	})
}

// sessionToken returns the raw session token the request's cookie carries.
func (p *Panel) sessionToken(c *gin.Context) (string, bool) {
	ck, err := c.Request.Cookie(p.cookieName())
	if err != nil {
		return "", false
	}
	cl, err := parseJWT(p.sessionKey, ck.Value, p.d.Now())
	if err != nil {
		return "", false
	}
	return cl.Session, true
}
