package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/punchbox/punchbox/store"
)

func (p *Panel) userRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/users", access: admin, tag: "users", summary: "List panel users", out: []UserView{}, h: p.listUsers},
		{method: "POST", path: "/api/v1/users", access: admin, tag: "users", summary: "Add a panel user", in: NewUser{}, out: UserView{}, status: http.StatusCreated, h: p.createUser},
		{method: "PATCH", path: "/api/v1/users/:name", access: admin, tag: "users", summary: "Change a user's role or password (a new password ends their sessions)", in: UserChange{}, out: UserView{}, h: p.changeUser},
		{method: "DELETE", path: "/api/v1/users/:name", access: admin, tag: "users", summary: "Remove a user, end their sessions and revoke their API tokens; the last admin stays", status: http.StatusNoContent, h: p.deleteUser},
	}
}

func (p *Panel) tokenRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/tokens", access: admin, tag: "tokens", summary: "List API tokens, revoked ones included", out: []TokenView{}, h: p.listTokens},
		{method: "POST", path: "/api/v1/tokens", access: admin, tag: "tokens", summary: "Create an API token; its secret is in this answer only", in: NewToken{}, out: CreatedToken{}, status: http.StatusCreated, h: p.createToken},
		{method: "DELETE", path: "/api/v1/tokens/:id", access: admin, tag: "tokens", summary: "Revoke an API token for good", status: http.StatusNoContent, h: p.revokeToken},
	}
}

// UserView is a panel user as the API shows it.
type UserView struct {
	Name    string     `json:"name"`
	Role    store.Role `json:"role"`
	Created time.Time  `json:"created"`
	Updated time.Time  `json:"updated"`
}

// NewUser adds a user.
type NewUser struct {
	Name     string     `json:"name"`
	Role     store.Role `json:"role"` // admin or viewer
	Password string     `json:"password"`
}

// UserChange changes a user; absent fields stay.
type UserChange struct {
	Role     *store.Role `json:"role,omitempty"`
	Password *string     `json:"password,omitempty"`
}

// TokenView is an API token without its secret. A token acts for its
// owner with at most the owner's current role: effective_role.
type TokenView struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	Role          store.Role `json:"role"`
	EffectiveRole store.Role `json:"effective_role,omitempty"` // absent once revoked
	Owner         string     `json:"owner,omitempty"`          // absent once the owner is deleted
	Created       time.Time  `json:"created"`
	CreatedBy     string     `json:"created_by"`
	LastUsed      time.Time  `json:"last_used,omitzero"`
	Revoked       time.Time  `json:"revoked,omitzero"`
}

// NewToken creates an API token.
type NewToken struct {
	Name string     `json:"name"`
	Role store.Role `json:"role"` // admin or viewer
}

// CreatedToken is a new token with its secret, shown this once.
type CreatedToken struct {
	Token  TokenView `json:"token"`
	Secret string    `json:"secret"` // send as Authorization: Bearer <secret>
}

func userView(u store.User) UserView {
	return UserView{Name: u.Name, Role: u.Role, Created: u.Created, Updated: u.Updated}
}

func tokenView(t store.Token) TokenView {
	v := TokenView{ID: t.ID, Name: t.Name, Role: t.Role, Owner: t.Owner, Created: t.Created, CreatedBy: t.CreatedBy, LastUsed: t.LastUsed, Revoked: t.Revoked}
	if t.Revoked.IsZero() {
		v.EffectiveRole = t.Effective()
	}
	return v
}

func (p *Panel) listUsers(c *gin.Context) {
	us, err := p.d.Store.Users(c.Request.Context())
	if err != nil {
		p.fail(c, err)
		return
	}
	out := make([]UserView, 0, len(us))
	for _, u := range us {
		out = append(out, userView(u))
	}
	c.JSON(http.StatusOK, out)
}

func (p *Panel) createUser(c *gin.Context) {
	var req NewUser
	if err := decode(c, &req); err != nil {
		p.fail(c, err)
		return
	}
	if !req.Role.Valid() {
		p.fail(c, badField("role", "want admin or viewer"))
		return
	}
	if err := validPassword(req.Name, req.Password); err != nil {
		p.fail(c, err)
		return
	}
	u, err := p.d.Store.CreateUser(c.Request.Context(), req.Name, req.Role, req.Password)
	if err != nil {
		p.fail(c, userError(err))
		return
	}
	p.audit(c, "user.create", u.Name, "role "+string(u.Role))
	c.JSON(http.StatusCreated, userView(u))
}

func (p *Panel) changeUser(c *gin.Context) {
	name := c.Param("name")
	var req UserChange
	if err := decode(c, &req); err != nil {
		p.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	u, err := p.d.Store.UserByName(ctx, name)
	if err != nil {
		p.fail(c, err)
		return
	}
	if req.Role != nil && !req.Role.Valid() {
		p.fail(c, badField("role", "want admin or viewer"))
		return
	}
	if req.Password != nil {
		if err := validPassword(u.Name, *req.Password); err != nil {
			p.fail(c, err)
			return
		}
	}
	if req.Role != nil && *req.Role != u.Role {
		if err := p.d.Store.SetRole(ctx, u.Name, *req.Role); err != nil {
			p.fail(c, userError(err))
			return
		}
		detail := fmt.Sprintf("role %s → %s", u.Role, *req.Role)
		if *req.Role == store.RoleViewer {
			detail += "; their API tokens act as viewer at most"
		}
		p.audit(c, "user.role", u.Name, detail)
	}
	if req.Password != nil {
		if err := p.d.Store.SetPassword(ctx, u.Name, *req.Password); err != nil {
			p.fail(c, userError(err))
			return
		}
		p.audit(c, "user.password", u.Name, "password set; sessions ended")
	}
	if u, err = p.d.Store.UserByName(ctx, u.Name); err != nil {
		p.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, userView(u))
}

func (p *Panel) deleteUser(c *gin.Context) {
	name := c.Param("name")
	revoked, err := p.d.Store.DeleteUser(c.Request.Context(), name)
	if err != nil {
		p.fail(c, userError(err))
		return
	}
	p.audit(c, "user.delete", name, fmt.Sprintf("sessions ended, %d API tokens revoked", len(revoked)))
	for _, t := range revoked {
		p.audit(c, "token.revoke", strconv.FormatInt(t.ID, 10), "token "+t.Name+": its owner "+name+" was deleted")
	}
	c.Status(http.StatusNoContent)
}

func (p *Panel) listTokens(c *gin.Context) {
	ts, err := p.d.Store.Tokens(c.Request.Context())
	if err != nil {
		p.fail(c, err)
		return
	}
	out := make([]TokenView, 0, len(ts))
	for _, t := range ts {
		out = append(out, tokenView(t))
	}
	c.JSON(http.StatusOK, out)
}

func (p *Panel) createToken(c *gin.Context) {
	var req NewToken
	if err := decode(c, &req); err != nil {
		p.fail(c, err)
		return
	}
	switch {
	case !req.Role.Valid():
		p.fail(c, badField("role", "want admin or viewer"))
		return
	case strings.TrimSpace(req.Name) == "" || utf8.RuneCountInString(req.Name) > store.MaxTokenNameLen:
		p.fail(c, badField("name", "want 1 to %d characters", store.MaxTokenNameLen))
		return
	}
	// A token made with a token belongs to that token's owner.
	pr := who(c)
	owner := pr.user.ID
	if pr.isToken {
		owner = pr.token.OwnerID
	}
	secret, t, err := p.d.Store.CreateToken(c.Request.Context(), req.Name, req.Role, owner, pr.name())
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			err = badField("name", "a token with this name exists")
		} else if errors.Is(err, store.ErrInvalid) && strings.Contains(err.Error(), "role") {
			err = &FieldError{Field: "role", Err: err}
		} else if errors.Is(err, store.ErrInvalid) {
			err = &FieldError{Field: "name", Err: err}
		}
		p.fail(c, err)
		return
	}
	p.audit(c, "token.create", t.Name, "role "+string(t.Role))
	c.JSON(http.StatusCreated, CreatedToken{Token: tokenView(t), Secret: secret})
}

func (p *Panel) revokeToken(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		p.fail(c, badField("id", "want a token id"))
		return
	}
	if err := p.d.Store.RevokeToken(c.Request.Context(), id); err != nil {
		p.fail(c, err)
		return
	}
	p.audit(c, "token.revoke", strconv.FormatInt(id, 10), "revoked by hand")
	c.Status(http.StatusNoContent)
}

// validPassword judges a new password before the store hashes it, naming
// the field: at least store.MinPasswordLen characters, not the user name.
func validPassword(name, pw string) error {
	switch {
	case name == "":
		return badField("name", "required")
	case utf8.RuneCountInString(pw) < store.MinPasswordLen:
		return badField("password", "at least %d characters", store.MinPasswordLen)
	case len(pw) > store.MaxPasswordLen:
		return badField("password", "at most %d bytes", store.MaxPasswordLen)
	case strings.EqualFold(pw, name):
		return badField("password", "must not be the user name")
	}
	return nil
}

// userError names the field of a store error about a user.
func userError(err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, store.ErrConflict):
		return &FieldError{Field: "name", Err: errors.New("a user with this name exists")}
	case errors.Is(err, store.ErrWeakPassword), errors.Is(err, store.ErrInvalid) && strings.Contains(msg, "password"):
		return &FieldError{Field: "password", Err: err}
	case errors.Is(err, store.ErrInvalid) && strings.Contains(msg, "user name"):
		return &FieldError{Field: "name", Err: errors.New("want 1 to 32 characters of A-Z, a-z, 0-9, '.', '_' and '-'")}
	case errors.Is(err, store.ErrInvalid) && strings.Contains(msg, "role"):
		return &FieldError{Field: "role", Err: err}
	}
	return err
}

// fieldRename renames the field of a FieldError.
func fieldRename(err error, from, to string) error {
	var fe *FieldError
	if errors.As(err, &fe) && fe.Field == from {
		return &FieldError{Field: to, Err: fe.Err}
	}
	return err
}
