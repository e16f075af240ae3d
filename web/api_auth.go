package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox/store"
)

func (p *Panel) authRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/setup", access: public, tag: "auth", summary: "Whether the box still needs its first admin", out: SetupStatus{}, h: p.getSetup},
		{method: "POST", path: "/api/v1/setup", access: public, tag: "auth", summary: "Create the first admin with the setup code from the box's log or data directory, and sign in", in: SetupRequest{}, out: SessionInfo{}, status: http.StatusCreated, h: p.postSetup},
		{method: "POST", path: "/api/v1/login", access: public, tag: "auth", summary: "Sign in; sets the session cookie", in: LoginRequest{}, out: SessionInfo{}, h: p.login},
		{method: "POST", path: "/api/v1/logout", access: self, tag: "auth", summary: "Sign out; ends the session on the box", status: http.StatusNoContent, h: p.logout},
		{method: "GET", path: "/api/v1/session", access: viewer, tag: "auth", summary: "Who is signed in, and the session's CSRF token", out: SessionInfo{}, h: p.getSession},
		{method: "PUT", path: "/api/v1/me/password", access: self, tag: "auth", summary: "Change your own password; ends your other sessions", in: PasswordChange{}, status: http.StatusNoContent, h: p.changeOwnPassword},
	}
}

// SetupStatus says whether the first admin is still to be created.
type SetupStatus struct {
	Needed bool `json:"needed"`
}

// SetupRequest creates the first admin.
type SetupRequest struct {
	Code     string `json:"code"` // the setup code, e.g. 7KQM-3XWD-9PZB
	Name     string `json:"name"`
	Password string `json:"password"`
}

// LoginRequest signs in.
type LoginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// SessionInfo describes the signed-in principal.
type SessionInfo struct {
	Name      string     `json:"name"`
	Role      store.Role `json:"role"`
	Kind      string     `json:"kind"`                 // session or token
	CSRFToken string     `json:"csrf_token,omitempty"` // send as X-CSRF-Token on changes
	Expires   time.Time  `json:"expires,omitzero"`
}

// PasswordChange changes the caller's own password.
type PasswordChange struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

func (p *Panel) sessionInfo(pr *principal) SessionInfo {
	if pr.isToken {
		return SessionInfo{Name: pr.token.Name, Role: pr.role(), Kind: "token"}
	}
	return SessionInfo{Name: pr.user.Name, Role: pr.user.Role, Kind: "session", CSRFToken: p.csrfToken(pr.session), Expires: pr.session.Expires}
}

func (p *Panel) getSetup(c *gin.Context) {
	admins, _, err := p.d.Store.CountUsers(c.Request.Context())
	if err != nil {
		p.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, SetupStatus{Needed: admins == 0})
}

func (p *Panel) postSetup(c *gin.Context) {
	var req SetupRequest
	if err := decode(c, &req); err != nil {
		p.fail(c, err)
		return
	}
	// Judged before the code is: a weak password is no guess at the code.
	if err := validPassword(req.Name, req.Password); err != nil {
		p.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	at := p.beginAttempt(c, "")
	if at == nil {
		return
	}
	defer at.end()
	p.setup.mu.Lock()
	defer p.setup.mu.Unlock()
	admins, _, err := p.d.Store.CountUsers(ctx)
	if err != nil {
		p.fail(c, err)
		return
	}
	if admins > 0 {
		p.fail(c, ErrSetupDone)
		return
	}
	if !p.checkSetupCode(req.Code) {
		p.failedAttempt(c, at, "")
		p.fail(c, badField("code", "wrong setup code; it is in the box's log and in %s in the data directory", SetupCodeFile))
		return
	}
	at.succeed()
	u, err := p.d.Store.CreateUser(ctx, req.Name, store.RoleAdmin, req.Password)
	if err != nil {
		p.fail(c, userError(err))
		return
	}
	p.setup.code = ""
	if err := RemoveSetupCode(p.d.DataDir); err != nil {
		p.log.Warn("setup done, but the setup code file stays", "err", err)
	}
	p.auditAs(c, u.Name, "setup", u.Name, "first admin created with the setup code")
	p.log.Info("first admin created", "user", u.Name, "client", c.ClientIP())
	s, err := p.startSession(c, u)
	if err != nil {
		p.fail(c, err)
		return
	}
	p.setDevice(c, u)
	c.JSON(http.StatusCreated, p.sessionInfo(&principal{user: u, session: s}))
}

// beginAttempt counts a sign-in attempt of the request's client at account
// (see accountKey; "" for none). When the attempt may not be made now it
// answers 429 with Retry-After and returns nil. Only then is the store
// asked whether the console lifted the lockout (punchbox admin unlock or
// passwd), so sign-ins that are not refused cost it nothing.
func (p *Panel) beginAttempt(c *gin.Context, account string) *attempt {
	client := p.knownDevice(c, account)
	device := client != ""
	if !device {
		client = clientKey(c.ClientIP())
	}
	at, no := p.limits.begin(client, account, device)
	if no != nil && !no.busy {
		all, one, err := p.d.Store.LoginUnlocks(c.Request.Context(), account)
		if err != nil {
			p.log.Debug("read console unlocks", "err", err)
		} else if p.limits.lift(client, account, all, one) {
			p.log.Info("sign-in lockout lifted from the console", "client", c.ClientIP(), "user", account)
			at, no = p.limits.begin(client, account, device)
		}
	}
	if no == nil {
		return at
	}
	secs, why := 1, "another sign-in from this address is being checked"
	if !no.busy {
		secs = int(math.Ceil(no.wait.Seconds()))
		why = fmt.Sprintf("try again in %d s", secs)
	}
	c.Header("Retry-After", strconv.Itoa(secs))
	p.fail(c, fmt.Errorf("%w: %s", ErrRateLimited, why))
	return nil
}

// checkPassword checks name's password in the lane of the attempt's client.
func (p *Panel) checkPassword(ctx context.Context, at *attempt, name, password string) (store.User, error) {
	release, err := p.lanes.acquire(ctx, at.clean)
	if err != nil {
		return store.User{}, err
	}
	defer release()
	return p.d.verify(ctx, name, password)
}

// failedAttempt ends a failed attempt and logs a lockout it leaves, at most
// once a minute at Warn, with no more of the name tried than a user name
// can have.
func (p *Panel) failedAttempt(c *gin.Context, at *attempt, user string) {
	if len(user) > store.MaxUserNameLen {
		user = user[:store.MaxUserNameLen] + "…"
	}
	if d := at.fail(); d > 0 {
		p.lockLog.Log(c.Request.Context(), slog.LevelWarn, "sign-in lockout", "failed sign-ins: locked out",
			"client", c.ClientIP(), "user", user, "for", d.Round(time.Second))
	}
}

func (p *Panel) login(c *gin.Context) {
	var req LoginRequest
	if err := decode(c, &req); err != nil {
		p.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	at := p.beginAttempt(c, accountKey(req.Name))
	if at == nil {
		return
	}
	defer at.end()
	u, err := p.checkPassword(ctx, at, req.Name, req.Password)
	if errors.Is(err, store.ErrBadCredentials) {
		p.failedAttempt(c, at, req.Name)
		p.fail(c, err)
		return
	}
	if err != nil {
		p.fail(c, err)
		return
	}
	at.succeed()
	s, err := p.startSession(c, u)
	if err != nil {
		p.fail(c, err)
		return
	}
	p.setDevice(c, u)
	p.auditAs(c, u.Name, "login", u.Name, "")
	p.log.Info("signed in", "user", u.Name, "client", c.ClientIP())
	c.JSON(http.StatusOK, p.sessionInfo(&principal{user: u, session: s}))
}

func (p *Panel) logout(c *gin.Context) {
	pr := who(c)
	if !pr.isToken {
		if tok, ok := p.sessionToken(c); ok {
			if err := p.d.Store.DeleteSession(c.Request.Context(), tok); err != nil && !errors.Is(err, store.ErrNotFound) {
				p.fail(c, err)
				return
			}
		}
		p.clearCookie(c)
		p.auditAs(c, pr.name(), "logout", pr.name(), "")
	}
	c.Status(http.StatusNoContent)
}

func (p *Panel) getSession(c *gin.Context) {
	c.JSON(http.StatusOK, p.sessionInfo(who(c)))
}

func (p *Panel) changeOwnPassword(c *gin.Context) {
	pr := who(c)
	if pr.isToken {
		p.fail(c, fmt.Errorf("%w: an API token has no password", ErrForbidden))
		return
	}
	var req PasswordChange
	if err := decode(c, &req); err != nil {
		p.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	at := p.beginAttempt(c, accountKey(pr.user.Name))
	if at == nil {
		return
	}
	defer at.end()
	if _, err := p.checkPassword(ctx, at, pr.user.Name, req.Current); err != nil {
		if errors.Is(err, store.ErrBadCredentials) {
			p.failedAttempt(c, at, pr.user.Name)
			p.fail(c, badField("current", "wrong password"))
			return
		}
		p.fail(c, err)
		return
	}
	at.succeed()
	if err := validPassword(pr.user.Name, req.New); err != nil {
		p.fail(c, fieldRename(err, "password", "new"))
		return
	}
	if err := p.d.Store.SetPassword(ctx, pr.user.Name, req.New); err != nil {
		p.fail(c, fieldRename(userError(err), "password", "new"))
		return
	}
	p.audit(c, "user.password", pr.user.Name, "own password changed; other sessions ended")
	// SetPassword ended every session, this one too: start a new one.
	if _, err := p.startSession(c, pr.user); err != nil {
		p.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// audit records a change made by the request's principal.
func (p *Panel) audit(c *gin.Context, action, target, detail string) {
	actor := "anonymous"
	if pr := who(c); pr != nil {
		actor = pr.name()
	}
	p.auditAs(c, actor, action, target, detail)
}

func (p *Panel) auditAs(c *gin.Context, actor, action, target, detail string) {
	err := p.d.Store.Audit(c.Request.Context(), store.AuditEntry{Actor: actor, Action: action, Target: target, Detail: detail, Remote: c.ClientIP()})
	if err != nil {
		p.log.Warn("write audit log", "action", action, "target", target, "err", err)
	}
}
