package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/punchbox/punchbox/cmd/punchbox/internal/config"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/web"
)

// runAdmin manages the panel's users from the console, which is the way in
// when nobody can sign in: punchbox admin add|passwd|list|remove|unlock. It
// is safe while the service runs; SQLite serialises the writes.
func runAdmin(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError{errors.New(`want "admin add NAME", "admin passwd NAME", "admin list", "admin remove NAME" or "admin unlock [NAME]"`)}
	}
	sub, args := args[0], args[1:]
	fs := newFlags(e, "admin")
	fs.Usage = func() {
		commandHelp(e.stderr, "admin", fs)
		fmt.Fprint(e.stderr, adminCommands)
	}
	path := fs.String("config", defaultConfigPath(e), "configuration file ($PUNCHBOX_CONFIG)")
	var role *string
	var generate, asJSON *bool
	switch sub {
	case "add":
		role = fs.String("role", "admin", "admin (may change everything) or viewer (read only)")
		generate = fs.Bool("generate", false, "make up a strong password and print it, instead of asking")
	case "passwd":
		generate = fs.Bool("generate", false, "make up a strong password and print it, instead of asking")
	case "list":
		asJSON = fs.Bool("json", false, "one JSON object per user")
	case "remove", "unlock":
	case "-h", "-help", "--help":
		return parseFlags(fs, []string{"-h"}, 0)
	default:
		return usageError{fmt.Errorf("unknown admin command %q: want add, passwd, list, remove or unlock", sub)}
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	minArgs, maxArgs := 1, 1
	switch sub {
	case "list":
		minArgs, maxArgs = 0, 0
	case "unlock":
		minArgs = 0
	}
	switch {
	case len(pos) > maxArgs:
		return usageError{fmt.Errorf("unexpected argument %q", pos[maxArgs])}
	case len(pos) < minArgs:
		return usageError{fmt.Errorf("name the user: punchbox admin %s NAME", sub)}
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return usageError{err}
	}
	defer keepOwner(cfg.DataDir)()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	db, err := store.Open(ctx, filepath.Join(cfg.DataDir, store.FileName), store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	a := adminCmd{e: e, db: db, dataDir: cfg.DataDir}
	switch sub {
	case "add":
		return a.add(ctx, pos[0], store.Role(*role), *generate)
	case "passwd":
		return a.passwd(ctx, pos[0], *generate)
	case "list":
		return a.list(ctx, *asJSON)
	case "unlock":
		name := ""
		if len(pos) == 1 {
			name = pos[0]
		}
		return a.unlock(ctx, name)
	default:
		return a.remove(ctx, pos[0])
	}
}

// adminCommands ends "punchbox help admin".
const adminCommands = `
Commands:
  add NAME       add a user; asks for the password twice (or reads it from
                 stdin, or makes one up with --generate)
  passwd NAME    set a user's password; ends their sessions and lifts their
                 sign-in lockouts
  list           the users, their roles and last change
  remove NAME    remove a user: ends their sessions, revokes their API tokens
  unlock [NAME]  lift the panel's sign-in lockouts of NAME's account and of
                 the addresses that tried it, or, without NAME, every lockout;
                 the running daemon applies it at the next sign-in
`

type adminCmd struct {
	e       *env
	db      *store.DB
	dataDir string
}

// consoleActor names the console in the audit log.
const consoleActor = "console"

func (a adminCmd) audit(ctx context.Context, action, target, detail string) {
	if err := a.db.Audit(ctx, store.AuditEntry{Actor: consoleActor, Action: action, Target: target, Detail: detail, Remote: "console"}); err != nil {
		fmt.Fprintf(a.e.stderr, "warning: write the audit log: %v\n", err)
	}
}

func (a adminCmd) add(ctx context.Context, name string, role store.Role, generate bool) error {
	if !role.Valid() {
		return usageError{fmt.Errorf("--role %q: want admin or viewer", role)}
	}
	if _, err := a.db.UserByName(ctx, name); err == nil {
		return fmt.Errorf("user %s exists; use punchbox admin passwd %s to set a new password", name, name)
	}
	pw, err := a.password(name, generate)
	if err != nil {
		return err
	}
	u, err := a.db.CreateUser(ctx, name, role, pw)
	if err != nil {
		return err
	}
	a.audit(ctx, "user.create", u.Name, "role "+string(u.Role))
	if role == store.RoleAdmin {
		if err := web.RemoveSetupCode(a.dataDir); err != nil {
			fmt.Fprintf(a.e.stderr, "warning: %v\n", err)
		}
	}
	fmt.Fprintf(a.e.stdout, "added %s (%s)\n", u.Name, u.Role)
	return nil
}

func (a adminCmd) passwd(ctx context.Context, name string, generate bool) error {
	u, err := a.db.UserByName(ctx, name)
	if err != nil {
		return fmt.Errorf("no user %s: punchbox admin list shows who there is", name)
	}
	pw, err := a.password(u.Name, generate)
	if err != nil {
		return err
	}
	if err := a.db.SetPassword(ctx, u.Name, pw); err != nil {
		return err
	}
	a.audit(ctx, "user.password", u.Name, "password set on the console; sessions ended, sign-in lockouts lifted")
	fmt.Fprintf(a.e.stdout, "set the password of %s, signed them out everywhere and lifted their sign-in lockouts\n", u.Name)
	return nil
}

// unlock lifts the panel's sign-in lockouts of the user called name, or all
// of them when name is "". The daemon keeps lockouts in memory and reads
// the store's unlocks when it is about to refuse a sign-in.
func (a adminCmd) unlock(ctx context.Context, name string) error {
	if name != "" {
		u, err := a.db.UserByName(ctx, name)
		if err != nil {
			return fmt.Errorf("no user %s: punchbox admin list shows who there is", name)
		}
		name = u.Name
	}
	if err := a.db.UnlockLogins(ctx, name); err != nil {
		return err
	}
	if name == "" {
		a.audit(ctx, "user.unlock", "*", "every sign-in lockout lifted on the console")
		fmt.Fprintln(a.e.stdout, "lifted every sign-in lockout of the panel")
		return nil
	}
	a.audit(ctx, "user.unlock", name, "sign-in lockouts lifted on the console")
	fmt.Fprintf(a.e.stdout, "lifted the sign-in lockouts of %s and of the addresses that tried %s\n", name, name)
	return nil
}

// userLine is one user of "admin list --json".
type userLine struct {
	Name    string     `json:"name"`
	Role    store.Role `json:"role"`
	Created time.Time  `json:"created"`
	Updated time.Time  `json:"updated"`
}

func (a adminCmd) list(ctx context.Context, asJSON bool) error {
	us, err := a.db.Users(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(a.e.stdout)
		for _, u := range us {
			if err := enc.Encode(userLine{u.Name, u.Role, u.Created.UTC(), u.Updated.UTC()}); err != nil {
				return err
			}
		}
		return nil
	}
	if len(us) == 0 {
		fmt.Fprintln(a.e.stdout, "no users yet: add the first admin with punchbox admin add NAME (or use the setup code in the panel)")
		return nil
	}
	tw := tabwriter.NewWriter(a.e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tCHANGED")
	for _, u := range us {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Role, u.Created.Local().Format(time.DateTime), u.Updated.Local().Format(time.DateTime))
	}
	return tw.Flush()
}

func (a adminCmd) remove(ctx context.Context, name string) error {
	revoked, err := a.db.DeleteUser(ctx, name)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no user %s: punchbox admin list shows who there is", name)
		}
		return err
	}
	a.audit(ctx, "user.delete", name, fmt.Sprintf("sessions ended, %d API tokens revoked", len(revoked)))
	for _, t := range revoked {
		a.audit(ctx, "token.revoke", strconv.FormatInt(t.ID, 10), "token "+t.Name+": its owner "+name+" was deleted")
	}
	fmt.Fprintf(a.e.stdout, "removed %s, ended their sessions and revoked their %d API tokens\n", name, len(revoked))
	return nil
}

// password returns a new password for name: made up and printed with
// --generate, asked twice without echo on a terminal, or read as the
// first line of stdin from a script.
func (a adminCmd) password(name string, generate bool) (string, error) {
	if generate {
		b := make([]byte, 15)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		pw := base64.RawURLEncoding.EncodeToString(b)
		fmt.Fprintf(a.e.stdout, "password for %s: %s\n", name, pw)
		return pw, nil
	}
	if !isTerminal(stdin) {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && (!errors.Is(err, io.EOF) || line == "") {
			return "", usageError{errors.New("no password on stdin (or use --generate)")}
		}
		pw := strings.TrimRight(line, "\r\n")
		return pw, checkNewPassword(name, pw)
	}
	for {
		pw, err := readHidden(stdin, a.e.stderr, fmt.Sprintf("New password for %s (at least %d characters): ", name, store.MinPasswordLen))
		if err != nil {
			return "", err
		}
		if err := checkNewPassword(name, pw); err != nil {
			fmt.Fprintf(a.e.stderr, "%v; try again\n", err)
			continue
		}
		again, err := readHidden(stdin, a.e.stderr, "Again: ")
		if err != nil {
			return "", err
		}
		if again != pw {
			fmt.Fprintln(a.e.stderr, "the two differ; try again")
			continue
		}
		return pw, nil
	}
}

// checkNewPassword judges a password as the store will.
func checkNewPassword(name, pw string) error {
	switch {
	case len([]rune(pw)) < store.MinPasswordLen:
		return usageError{fmt.Errorf("the password is shorter than %d characters", store.MinPasswordLen)}
	case strings.EqualFold(pw, name):
		return usageError{errors.New("the password is the user name")}
	}
	return nil
}
