package web

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// SecretFile is the name, in the data directory, of the panel's secret: 32
// random bytes made on first start that sign session cookies and CSRF
// tokens. Deleting it signs everybody out.
const SecretFile = "panel.secret"

const secretLen = 32

// LoadOrCreateSecret returns the secret kept in dir, creating it (0600) on
// first start, and whether it did.
func LoadOrCreateSecret(dir string) ([]byte, bool, error) {
	path := filepath.Join(dir, SecretFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if len(b) != secretLen {
			return nil, false, fmt.Errorf("panel secret %s: %d bytes, want %d; delete it to make a new one (this signs everybody out)", path, len(b), secretLen)
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(path, 0o600); err != nil {
				return nil, false, fmt.Errorf("panel secret %s: %w", path, err)
			}
		}
		return b, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, false, fmt.Errorf("panel secret: %w", err)
	}
	b = make([]byte, secretLen)
	if _, err := rand.Read(b); err != nil {
		return nil, false, fmt.Errorf("panel secret: %w", err)
	}
	if err := writeFileAtomic(path, b, 0o600); err != nil {
		return nil, false, fmt.Errorf("panel secret: %w", err)
	}
	return b, true, nil
}
