package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// A new box has no admin and no default password. Until the first admin
// exists, the panel offers a setup page that asks for a one-time setup
// code, which only someone with the box's log or its data directory can
// read; `punchbox admin add NAME` on the console is the other way in.

// SetupCodeFile is the name, in the data directory, of the file holding the
// setup code (0600) while the box has no admin.
const SetupCodeFile = "setup-code"

// setupAlphabet avoids letters read as digits (Crockford's base 32).
const setupAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// setupState holds the setup code while the box has no admin.
type setupState struct {
	mu   sync.Mutex // serialises setup attempts
	code string     // normalised; "" once an admin exists
}

// Prepare does the panel's first-start work: while the box has no admin it
// makes the setup code (keeping one from an earlier start), writes it to
// the data directory and logs it; once an admin exists it removes a stale
// code file.
func (p *Panel) Prepare(ctx context.Context) error {
	admins, _, err := p.d.Store.CountUsers(ctx)
	if err != nil {
		return err
	}
	path := filepath.Join(p.d.DataDir, SetupCodeFile)
	p.setup.mu.Lock()
	defer p.setup.mu.Unlock()
	if admins > 0 {
		p.setup.code = ""
		return RemoveSetupCode(p.d.DataDir)
	}
	code := ""
	if b, err := os.ReadFile(path); err == nil {
		code = normalizeSetupCode(string(b))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read setup code: %w", err)
	}
	if len(code) != setupCodeLen {
		if code, err = newSetupCode(); err != nil {
			return err
		}
		if err := writeFileAtomic(path, []byte(formatSetupCode(code)+"\n"), 0o600); err != nil {
			return fmt.Errorf("setup code: %w", err)
		}
	}
	p.setup.code = code
	p.log.Warn("no admin yet: open the panel and enter the setup code, or run `punchbox admin add NAME` on the box",
		"setup_code", formatSetupCode(code), "file", path)
	return nil
}

// RemoveSetupCode deletes the setup code file, once an admin exists.
func RemoveSetupCode(dataDir string) error {
	err := os.Remove(filepath.Join(dataDir, SetupCodeFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove setup code: %w", err)
	}
	return nil
}

const setupCodeLen = 12 // 60 bits

func newSetupCode() (string, error) {
	b := make([]byte, setupCodeLen)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("setup code: %w", err)
	}
	for i := range b {
		b[i] = setupAlphabet[int(b[i])%len(setupAlphabet)] // 256 is a multiple of 32: no bias
	}
	return string(b), nil
}

// formatSetupCode groups a code in fours: 7KQM-3XWD-9PZB.
func formatSetupCode(code string) string {
	var b strings.Builder
	for i := 0; i < len(code); i += 4 {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(code[i:min(i+4, len(code))])
	}
	return b.String()
}

// normalizeSetupCode reads a code as a person may type it: any case, with
// or without dashes and spaces, O for 0 and I or L for 1.
func normalizeSetupCode(s string) string {
	s = strings.ToUpper(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '-' || r == ' ' || r == '\n' || r == '\r' || r == '\t':
		case r == 'O':
			b.WriteByte('0')
		case r == 'I' || r == 'L':
			b.WriteByte('1')
		case r < 128 && strings.IndexByte(setupAlphabet, byte(r)) >= 0:
			b.WriteRune(r)
		default:
			b.WriteByte('?') // never matches
		}
	}
	return b.String()
}

// checkSetupCode reports whether typed is the setup code. The caller holds
// p.setup.mu.
func (p *Panel) checkSetupCode(typed string) bool {
	want := p.setup.code
	got := normalizeSetupCode(typed)
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
